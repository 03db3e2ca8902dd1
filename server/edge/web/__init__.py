"""The clerk console and display wall pages, their catalogues and HTTP routes (docs/screens.md)."""
