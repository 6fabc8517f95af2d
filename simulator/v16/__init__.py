"""OCPP 1.6J specifics of the simulated charge point."""
