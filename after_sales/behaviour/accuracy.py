"""Signal accuracy: each rule's precision, recall and lead time against the complaints that follow it (SQL)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from after_sales.arrow_frames import arrow_to_frame, frame_to_arrow
from after_sales.behaviour.rules import SQL_DIR, SignalConfig
from after_sales.tables import BEHAVIOUR_SIGNALS, SIGNAL_ACCURACY
from after_sales.transforms.marts import latest_version, locate_causes
from after_sales.transforms.rules import CauseRules, load_cause_rules
from after_sales.transforms.sql_models import UTC_TIME, arrow_table, run_model

COMPLAINT_COLUMNS = ["feedback_id", "order_id", "created_at", "cause"]
# The feedback columns complaints_of and the closed loop read.
FEEDBACK_COLUMNS = [
    "feedback_id",
    "order_id",
    "created_at",
    "rating",
    "issue_type",
    "issue_description",
    "landing_date",
    "source_file",
    "source_row",
]


def complaints_of(feedback: pd.DataFrame, rules: CauseRules | None = None) -> pd.DataFrame:
    """Own feedback rated below 3 or a ticket (issue_type other than review), one row per feedback, with its cause."""
    rules = rules or load_cause_rules()
    if feedback.empty:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in COMPLAINT_COLUMNS}).assign(
            created_at=pd.Series(dtype="datetime64[us, UTC]")
        )
    f = latest_version(feedback, "feedback_id")
    low = f["rating"].astype("Float64").lt(3).fillna(False).astype(bool)
    ticket = f["issue_type"].astype("string").fillna("review").ne("review")
    c = f.loc[low | ticket].copy()
    c["cause"] = locate_causes(c["issue_type"], c["issue_description"], rules)["cause"]
    return c[COMPLAINT_COLUMNS].reset_index(drop=True)


def measure_accuracy(
    signals: pd.DataFrame,
    complaints: pd.DataFrame,
    config: SignalConfig,
    start: dt.date,
    end: dt.date,
    tz: str,
    complaints_seen_through: dt.date,
) -> pd.DataFrame:
    """signal_accuracy rows for days [start, end): every rule and 'all', measured in DuckDB."""
    days = pd.DataFrame({"business_date": pd.date_range(start, end - dt.timedelta(days=1), freq="D").date})
    rules = pd.DataFrame({"rule": [s.name for s in config.signals], "cause": [s.cause for s in config.signals]})
    inputs = {
        "signals": frame_to_arrow(BEHAVIOUR_SIGNALS, signals[BEHAVIOUR_SIGNALS.column_names]),
        "complaints": arrow_table(complaints, {c: pa.string() for c in COMPLAINT_COLUMNS} | {"created_at": UTC_TIME}),
        "rules": pa.Table.from_pandas(rules, preserve_index=False),
        "days": pa.Table.from_pandas(days, preserve_index=False),
    }
    params = {"tz": tz, "window_days": config.accuracy_window_days, "complaints_seen_through": complaints_seen_through}
    found = run_model("signal_accuracy", inputs, params, SQL_DIR).to_pandas()
    return arrow_to_frame(SIGNAL_ACCURACY, frame_to_arrow(SIGNAL_ACCURACY, found[SIGNAL_ACCURACY.column_names]), tz)
