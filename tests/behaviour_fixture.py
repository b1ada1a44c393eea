"""Moved to tests/support/behaviour.py; this name stays importable for tests written before the move."""

from tests.support.behaviour import EVENTS, EVENTS_HEADER, FEEDBACK, ORDERS, write_fixture

__all__ = ["EVENTS", "EVENTS_HEADER", "FEEDBACK", "ORDERS", "write_fixture"]
