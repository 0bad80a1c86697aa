"""expacti-cli: `guard`, a zero-trust gate between AI agents and the shell."""

__version__ = "0.1.0"
