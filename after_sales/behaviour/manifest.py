"""Sample data only: the signals measured against the journeys the generator planted (_sample/planted_journeys.csv)."""

from __future__ import annotations

import pandas as pd

from after_sales.behaviour.rules import SignalConfig


def manifest_accuracy(signals: pd.DataFrame, manifest: pd.DataFrame, config: SignalConfig) -> pd.DataFrame:
    """Per rule: planted journeys found (recall on the manifest) and signals on no planted journey (false positives).

    A planted journey is found when a signal of its expected rule has its subject. A signal is a false positive
    when no planted journey of its rule has its subject; near misses (journeys with no expected rule) that fire
    any rule are counted apart.
    """
    planted = manifest.loc[manifest["expected_rule"].fillna("").ne("")]
    keys = set(zip(signals["rule"], signals["subject_id"], strict=True))
    expected = set(zip(planted["expected_rule"], planted["subject_id"], strict=True))
    decoys = set(manifest.loc[manifest["expected_rule"].fillna("").eq(""), "subject_id"])
    rows = []
    for rule in [s.name for s in config.signals]:
        mine = planted.loc[planted["expected_rule"] == rule]
        found = sum((rule, s) in keys for s in mine["subject_id"])
        fired = signals.loc[signals["rule"] == rule, "subject_id"]
        false_pos = sum((rule, s) not in expected for s in fired)
        rows.append(
            {
                "rule": rule,
                "planted": len(mine),
                "found": found,
                "manifest_recall": found / len(mine) if len(mine) else None,
                "signals": len(fired),
                "false_positives": false_pos,
                "false_positive_rate": false_pos / len(fired) if len(fired) else None,
                "near_misses_fired": int(fired.isin(decoys).sum()),
            }
        )
    return pd.DataFrame(rows)
