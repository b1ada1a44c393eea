"""Where file exports for other tools are written, and what makes a cell safe to open in a spreadsheet."""

import re
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

# OWASP CSV injection: a spreadsheet evaluates a cell starting with one of these as a formula (tab and CR too).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A plain number (-5.00, +86) is shown as a number and evaluates to itself: it stays as it is. ASCII digits only,
# so Python's re and Arrow's RE2 read the pattern alike.
PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_STARTS_FORMULA = "^[" + re.escape("".join(FORMULA_TRIGGERS)) + "]"
_IS_NUMBER = f"^(?:{PLAIN_NUMBER.pattern})$"


def neutralize_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with a single quote; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _formula_cells(column: pd.Series) -> np.ndarray | None:
    """Which cells of a text column neutralize_cell would change, judged by Arrow; None for mixed-type values."""
    try:
        text = pa.array(column, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    starts, number = pc.match_substring_regex(text, _STARTS_FORMULA), pc.match_substring_regex(text, _IS_NUMBER)
    risky = pc.and_(starts, pc.invert(number))
    return pc.fill_null(risky, False).to_numpy(zero_copy_only=False)


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell made formula-safe (neutralize_cell); numeric columns are not touched."""
    safe = {}
    for name in frame.columns:
        column = frame[name]
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        risky = _formula_cells(column)
        if risky is None:
            safe[name] = column.map(neutralize_cell, na_action="ignore").astype(column.dtype)
        elif risky.any():
            safe[name] = column.mask(risky, "'" + column.astype(object).where(risky, ""))
    return frame.assign(**safe) if safe else frame


class ExportDirectory(dg.ConfigurableResource):
    """Folder for exports such as the daily work-order CSVs (AFTER_SALES_EXPORT_DIR)."""

    base_dir: str = Field(description="Export directory.")

    def folder(self, name: str) -> Path:
        """A sub-folder of the export directory, created if missing."""
        path = Path(self.base_dir) / name
        path.mkdir(parents=True, exist_ok=True)
        return path
