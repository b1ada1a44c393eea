"""Orchestrated data platform for e-commerce after-sales service."""
