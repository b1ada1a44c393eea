"""What the demo prints about the closed loop: each cause's actions as ranked by their measured effectiveness."""

from __future__ import annotations

import pandas as pd

from after_sales.behaviour.actions import load_action_log_config
from after_sales.resources.warehouse import Warehouse


def _fmt(value: object, digits: int = 2) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


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
