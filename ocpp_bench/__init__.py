"""ocpp-bench: shared OCPP-J plumbing and the command line."""

__version__ = "0.1.0"
