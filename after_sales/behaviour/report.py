"""Text summary of the behaviour signals for the demo: problems found, precision and recall per signal."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from after_sales.behaviour.manifest import manifest_accuracy
from after_sales.behaviour.rules import load_signal_rules
from after_sales.resources.warehouse import Warehouse


def _fmt(value: object, digits: int = 2) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"  # type: ignore[arg-type]


def summary_lines(wh: Warehouse, schema: str, landing_dir: Path) -> list[str]:
    """Behaviour-detected problem orders and each rule's measured precision, recall and lead time."""
    if not wh.table_exists("behaviour_signals") or not wh.table_exists("signal_accuracy"):
        return []
    orders = wh.query(
        f'SELECT count(DISTINCT order_id) AS n, count(*) AS s FROM "{schema}".behaviour_signals '
        "WHERE order_id IS NOT NULL"
    ).iloc[0]
    acc = (
        wh.query(
            f"""SELECT rule, sum(signals) AS signals, sum(confirmed_signals) AS confirmed,
                   sum(complaints) AS complaints,
                   sum(anticipated_complaints) AS anticipated,
                   sum(lead_hours_mean * anticipated_complaints) AS lead_sum
            FROM "{schema}".signal_accuracy WHERE window_closed GROUP BY rule"""
        )
        .set_index("rule")
        .astype(float)
    )
    lines = [
        f"Behaviour signals: {int(orders['s']):,} signals on orders, {int(orders['n']):,} problem orders found from "
        "what customers did (behaviour_signals)",
        "Measured per signal (days whose 7-day window closed; signal_accuracy, docs/behaviour.md):",
        f"  {'rule':<26} {'signals':>8} {'precision':>9} {'complaints':>10} {'recall':>6} {'lead h':>6}",
    ]
    if wh.table_exists("work_orders"):
        wo = wh.query(
            f"""SELECT count(*) FILTER (WHERE proactive) AS proactive,
                       count(*) FILTER (WHERE proactive AND issue_count = 0) AS waiting,
                       count(*) AS total
                FROM "{schema}".work_orders"""
        ).iloc[0]
        lines.insert(
            1,
            f"Proactive work orders: {int(wo['proactive']):,} of {int(wo['total']):,} opened from behaviour before any "
            f"complaint ({int(wo['proactive']) - int(wo['waiting']):,} joined by a later complaint, "
            f"{int(wo['waiting']):,} with none yet)",
        )
    manifest_file = landing_dir / "_sample" / "planted_journeys.csv"
    planted = None
    if manifest_file.is_file():
        signals = wh.query(f'SELECT rule, subject_id FROM "{schema}".behaviour_signals')
        manifest = pd.read_csv(manifest_file, dtype=str, keep_default_na=False)
        planted = manifest_accuracy(signals, manifest, load_signal_rules()).set_index("rule")
        lines[-1] += f" {'manifest recall':>15} {'false pos.':>10}"
    for rule in [*(s.name for s in load_signal_rules().signals), "all"]:
        if rule not in acc.index:
            continue
        r = acc.loc[rule]
        precision = r["confirmed"] / r["signals"] if r["signals"] else None
        recall = r["anticipated"] / r["complaints"] if r["complaints"] else None
        lead = r["lead_sum"] / r["anticipated"] if r["anticipated"] else None
        line = (
            f"  {rule:<26} {int(r['signals']):>8,} {_fmt(precision):>9} {int(r['complaints']):>10,} "
            f"{_fmt(recall):>6} {_fmt(lead, 1):>6}"
        )
        if planted is not None and rule in planted.index:
            p = planted.loc[rule]
            line += f" {int(p['found']):>7}/{int(p['planted']):<7} {_fmt(p['false_positive_rate']):>10}"
        lines.append(line)
    return lines
