"""Deterministic sample data for the own landing sources (orders, feedback, behaviour)."""

from __future__ import annotations

from after_sales.sample.faults import ALL_FAULTS, FAULT_TYPES, MANIFEST_COLUMNS
from after_sales.sample.generator import COLUMNS, SOURCES, SampleData, generate, landing_relpath
from after_sales.sample.landing import MANIFEST_FILE, SAMPLE_DIR, SUMMARY_FILE, clean_landing, write_landing

__all__ = [
    "ALL_FAULTS",
    "COLUMNS",
    "FAULT_TYPES",
    "MANIFEST_COLUMNS",
    "MANIFEST_FILE",
    "SAMPLE_DIR",
    "SOURCES",
    "SUMMARY_FILE",
    "SampleData",
    "clean_landing",
    "generate",
    "landing_relpath",
    "write_landing",
]
