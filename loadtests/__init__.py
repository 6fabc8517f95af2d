"""Locust load tests: each Locust user is one charge point of the `simulator` package."""
