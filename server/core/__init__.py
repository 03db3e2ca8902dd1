"""The meeting as pure Python: commands in, events out, state folded from events.

Nothing in this package does I/O, reads a clock or draws randomness: time and random
ids are passed in by the adapters, so every rule can be tested without an event loop.
"""
