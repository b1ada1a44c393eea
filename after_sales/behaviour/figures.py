"""Per-partition figures of the behaviour assets, recorded as Dagster metadata so the UI plots them over days."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd

FUNNEL_RATES = (
    "checkout_payment_rate",
    "payment_failure_rate",
    "tracked_late_rate",
    "return_completion_rate",
    "contact_rate",
    "zero_result_rate",
)
FUNNEL_COUNTS = ("checkout_orders", "payment_results", "return_starts", "visitors", "searches", "after_sales_searches")
FUNNEL_TERMS = ("payment_failure_reasons", "top_after_sales_terms", "top_zero_result_terms")
ACCURACY_COLUMNS = (
    "rule",
    "signals",
    "confirmed_signals",
    "precision",
    "complaints",
    "anticipated_complaints",
    "recall",
    "lead_hours_mean",
    "lead_hours_median",
)
_TABLE_TYPES = {"rule": "string", "precision": "float", "recall": "float"}


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else pd.Timestamp(value).date()


def _terms_md(text: object) -> dg.MetadataValue:
    """'term n, term n, ...' as a markdown list (empty: 'none')."""
    if not isinstance(text, str) or not text:
        return dg.MetadataValue.md("none")
    return dg.MetadataValue.md("\n".join(f"- {t}" for t in text.split(", ")))


def signal_figures(rows: pd.DataFrame, rules: list[str], days: list[dt.date]) -> dict[dt.date, dict[str, object]]:
    """Signals per rule and day (every rule, 0 when none), keyed by signal_date."""
    counts = rows.groupby([rows["signal_date"].map(_day), "rule"]).size() if len(rows) else pd.Series(dtype=int)
    out: dict[dt.date, dict[str, object]] = {}
    for day in days:
        out[day] = {f"signals/{r}": int(counts.get((day, r), 0)) for r in rules}
        out[day]["signals"] = sum(int(v) for v in out[day].values())  # type: ignore[arg-type]
    return out


def accuracy_figures(rows: pd.DataFrame) -> dict[dt.date, dict[str, object]]:
    """Per day: precision, recall and mean lead hours per rule as numbers, and the day's table."""
    out: dict[dt.date, dict[str, object]] = {}
    for day, part in rows.groupby(rows["business_date"].map(_day)):
        figures: dict[str, object] = {}
        for r in part.itertuples(index=False):
            for name in ("precision", "recall", "lead_hours_mean"):
                value = _number(getattr(r, name))
                if value is not None:  # a rate without a denominator is not plotted as 0
                    figures[f"{name}/{r.rule}"] = value
        figures["accuracy_table"] = accuracy_table(part)
        out[day] = figures
    return out


def accuracy_table(rows: pd.DataFrame) -> dg.MetadataValue:
    """The rows of signal_accuracy as a Dagster table (one row per rule)."""
    schema = dg.TableSchema(
        columns=[dg.TableColumn(c, _TABLE_TYPES.get(c, "float" if "hours" in c else "int")) for c in ACCURACY_COLUMNS]
    )
    records = []
    for r in rows.to_dict("records"):
        values = {c: str(r[c]) if c == "rule" else _number(r[c]) for c in ACCURACY_COLUMNS}
        records.append(dg.TableRecord({c: int(v) if _is_int(c) and v is not None else v for c, v in values.items()}))
    return dg.MetadataValue.table(records, schema=schema)


def _is_int(column: str) -> bool:
    return _TABLE_TYPES.get(column, "float" if "hours" in column else "int") == "int"


def funnel_figures(rows: pd.DataFrame) -> dict[dt.date, dict[str, object]]:
    """Per day: the funnel rates and counts as numbers, the failure reasons and search terms as markdown."""
    out: dict[dt.date, dict[str, object]] = {}
    for r in rows.to_dict("records"):
        figures: dict[str, object] = {}
        for name in (*FUNNEL_RATES, *FUNNEL_COUNTS):
            value = _number(r[name])
            if value is not None:
                figures[name] = value if name in FUNNEL_RATES else int(value)
        for name in FUNNEL_TERMS:
            figures[name] = _terms_md(r[name])
        out[_day(r["business_date"])] = figures
    return out
