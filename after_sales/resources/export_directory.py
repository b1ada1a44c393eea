"""Where file exports for other tools are written, and what makes a cell safe to open in a spreadsheet."""

import re
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

# OWASP CSV injection: a spreadsheet evaluates a cell starting with one of these as a formula (tab and CR too).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A plain number (-5.00, +86) is shown as a number and evaluates to itself: it stays as it is.
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralize_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with a single quote; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell made formula-safe (neutralize_cell); numeric columns are not touched."""
    safe = {}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            starts = column.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_TRIGGERS), na_action="ignore")
            if starts.eq(True).any():
                safe[name] = column.map(neutralize_cell, na_action="ignore").astype(column.dtype)
    return frame.assign(**safe) if safe else frame


class ExportDirectory(dg.ConfigurableResource):
    """Folder for exports such as the daily work-order CSVs (AFTER_SALES_EXPORT_DIR)."""

    base_dir: str = Field(description="Export directory.")

    def folder(self, name: str) -> Path:
        """A sub-folder of the export directory, created if missing."""
        path = Path(self.base_dir) / name
        path.mkdir(parents=True, exist_ok=True)
        return path
