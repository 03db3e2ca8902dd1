"""The `hemicycle` command: one entry point composing the server, the keypad bridge and the
simulators, each of which stands alone (the server knows nothing of the other two)."""
