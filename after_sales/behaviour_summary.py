"""What the demo prints about behaviour: problems found, each signal's precision and recall, and each cause's
service actions as ranked by their measured effectiveness."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from after_sales.behaviour.actions import load_action_log_config
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


def loop_lines(wh: Warehouse, schema: str) -> list[str]:
    """The latest ranking per cause, with each action's measured effect over every day (action_effectiveness)."""
    if not wh.table_exists("action_ranking") or not wh.table_exists("action_effectiveness"):
        return []
    ranking = wh.query(
        f'SELECT * FROM "{schema}".action_ranking '
        f'WHERE business_date = (SELECT max(business_date) FROM "{schema}".action_ranking) ORDER BY cause, rank'
    )
    if ranking.empty:
        return []
    effect = wh.query(
        f"""SELECT cause, action, sum(actions) AS actions, sum(measured_actions) AS measured,
                   sum(resolved_actions) AS resolved, sum(recontacted_actions) AS recontacted,
                   sum(rated_actions) AS rated, sum(followup_rating_sum) AS rating_sum,
                   sum(resolution_hours_sum) AS hours_sum
            FROM "{schema}".action_effectiveness GROUP BY ALL"""
    ).set_index(["cause", "action"]).astype(float)  # sums of integers come back as decimals
    config = load_action_log_config()
    day = pd.Timestamp(ranking["business_date"].iloc[0]).date()
    lines = [
        f"Service actions ranked by measured effectiveness as of {day} (action_ranking: Wilson lower bound of the "
        f"resolution rate at {config.confidence:.0%}, an action moves from its service_actions.yaml place after "
        f"{config.min_evidence} measured actions; docs/behaviour.md). Effect over all days (action_effectiveness):",
        f"  {'cause':<18} {'#':>2} {'action':<12} {'yaml #':>6} {'measured':>8} {'wilson':>6} "
        f"{'resolved':>8} {'recontact':>9} {'rating':>6} {'hours':>6}",
    ]
    for r in ranking.itertuples(index=False):
        e = effect.loc[(r.cause, r.action)] if (r.cause, r.action) in effect.index else None
        measured = float(e["measured"]) if e is not None else 0.0
        rate = e["resolved"] / measured if e is not None and measured else None
        again = e["recontacted"] / measured if e is not None and measured else None
        score = e["rating_sum"] / e["rated"] if e is not None and e["rated"] else None
        hours = e["hours_sum"] / e["resolved"] if e is not None and e["resolved"] else None
        action = str(r.action) + ("" if r.listed else " *")
        lines.append(
            f"  {r.cause:<18} {int(r.rank):>2} {action:<{12 - _wide(action)}} {int(r.prior_rank):>6} "
            f"{int(r.measured_actions):>8} {_fmt(r.wilson_low):>6} {_fmt(rate):>8} {_fmt(again):>9} "
            f"{_fmt(score):>6} {_fmt(hours, 1):>6}"
        )
    return lines


def _wide(text: str) -> int:
    """Characters that take two columns in a terminal (CJK)."""
    return sum(1 for ch in text if ord(ch) > 0x2E80)
