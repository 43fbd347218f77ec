"""The command line: parses, calls the application core, prints. No logic of its own."""

from practicelake.cli.main import app, main

__all__ = ["app", "main"]
