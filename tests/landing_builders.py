"""Moved to tests/support/landing.py; this name stays importable for tests written before the move."""

from tests.support.landing import BEHAVIOUR_HEADER, FEEDBACK_HEADER, ORDERS_HEADER, small_landing, write_landing

__all__ = ["BEHAVIOUR_HEADER", "FEEDBACK_HEADER", "ORDERS_HEADER", "small_landing", "write_landing"]
