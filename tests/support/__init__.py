"""Helpers shared by the test modules: landing files, warehouses and runs, PostgreSQL databases, a webhook."""
