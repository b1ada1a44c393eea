"""The sample events: planted journeys are found by the signal rules, near misses are not."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from after_sales.behaviour.manifest import manifest_accuracy
from after_sales.behaviour.rules import load_signal_rules
from after_sales.behaviour.signals import detect_signals
from after_sales.sample import generate, landing_relpath
from after_sales.sample.events import HOWTO_QUERIES, generate_events
from after_sales.transforms.staging import KINDS, LandedFile, StagingContext, combine

TZ = "Asia/Shanghai"
START = dt.date(2025, 6, 1)
DAYS = 8


def _stage(source: str, frames: dict[dt.date, pd.DataFrame]) -> pd.DataFrame:
    kind = KINDS[source]
    ctx = StagingContext(timezone=TZ, late_arrival_days=7)
    results = []
    for day, frame in frames.items():
        text = frame.astype("string").fillna("")
        text["source_row"] = np.arange(1, len(text) + 1)
        results.append(kind.stage(LandedFile(source, day, landing_relpath(source, day), text), ctx))
    result = combine(results, kind.spec, kind.id_column)
    assert result.quarantined.empty, result.quarantined["reason"].head().tolist()
    return result.rows


@pytest.mark.slow
def test_planted_journeys_found_and_near_misses_not() -> None:
    sample = generate(START, DAYS, 200, seed=7, tz=TZ)
    frames, manifest = generate_events(sample)
    assert sorted(frames) == sample.landing_days  # an events file for every day
    again, _ = generate_events(sample)
    assert all(frames[d].equals(again[d]) for d in frames)  # deterministic
    events = _stage("events", frames)
    orders = _stage("orders", sample.frames["orders"])
    config = load_signal_rules()
    signals = detect_signals(events, orders, config, START, START + dt.timedelta(days=DAYS), TZ)

    kinds = set(manifest["journey"])
    assert {"payment_failures", "delivery_search", "abandoned_return", "return_back_and_forth"} <= kinds
    assert {"decoy_payment", "decoy_tracking", "decoy_return"} & kinds
    queries = set(events.loc[events["event_type"] == "search", "search_query"])
    assert queries & {q for qs in HOWTO_QUERIES.values() for q in qs}
    assert manifest["complaint_id"].fillna("").ne("").any() and manifest["complaint_id"].fillna("").eq("").any()

    measured = manifest_accuracy(signals, manifest, config).set_index("rule")
    planted = measured.loc[measured["planted"] > 0]
    assert (planted["found"] == planted["planted"]).all(), measured
    assert (measured["false_positives"] == 0).all() and (measured["near_misses_fired"] == 0).all(), measured
