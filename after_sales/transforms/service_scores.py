"""Service items: which item each work order used, its follow-up rating, and the 5-point score and grade."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from after_sales.tables import METRICS_DAILY_BY_SERVICE_ITEM
from after_sales.transforms.metric_rules import MetricRules, load_metric_rules
from after_sales.transforms.metrics import ROW_MODELS, measures_query, metric_inputs, metric_params
from after_sales.transforms.rules import ServiceRules, load_service_rules
from after_sales.transforms.sql_models import run_model, typed_frame

GRADED = "graded"
TOO_FEW = "too_few_ratings"


def _t_quantile(p: float, df: np.ndarray) -> np.ndarray:
    """Student's t quantiles (scipy is imported here, not with the definitions: it costs 0.8 s)."""
    from scipy import stats

    return stats.t.ppf(p, df)


def service_items(rules: ServiceRules) -> list[str]:
    """Every suggested action of service_actions.yaml, once each, in file order."""
    seen: dict[str, None] = {}
    for actions in rules.actions.values():
        for a in actions:
            seen.setdefault(a, None)
    return list(seen)


def build_metrics_daily_by_service_item(
    work_orders: pd.DataFrame,
    fact: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    service_rules: ServiceRules | None = None,
    rules: MetricRules | None = None,
    actions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per business date of [start, end) and service item: work orders suggesting and using it, follow-up sums.

    Every configured item gets a row every day (zeros when unused), so the items without ratings show too. actions
    are the helpdesk's logged actions (stg_actions): where the log has a work order, its item is the action taken.
    """
    service_rules = service_rules or load_service_rules()
    rules = rules or load_metric_rules()
    params = {**metric_params(rules, "used_action"), "start": start, "end": end, "items": service_items(service_rules)}
    query = measures_query(METRICS_DAILY_BY_SERVICE_ITEM, "by_item_sums", ["business_date", "item_pos"])
    inputs = metric_inputs(fact, work_orders, logged=actions)
    table = run_model([*ROW_MODELS, "metrics_daily_by_service_item"], inputs, params, query=query)
    return typed_frame(METRICS_DAILY_BY_SERVICE_ITEM, table, "UTC")


def score_items(sums: pd.DataFrame, rules: MetricRules | None = None) -> pd.DataFrame:
    """Add score, standard deviation, t confidence interval, follow-up CSAT, grade and rating status.

    sums holds followup_ratings (n), followup_rating_sum (S), followup_rating_sq_sum (Q) and
    satisfied_followups. score = S / n; stddev = sqrt((Q - S^2 / n) / (n - 1)); the interval is
    score -/+ t(1 - (1 - confidence) / 2, n - 1) * stddev / sqrt(n), clipped to 1-5. Fewer than
    min_ratings ratings: no score, interval or grade, rating_status too_few_ratings.
    """
    rules = rules or load_metric_rules()
    out = sums.copy()
    n = out["followup_ratings"].astype("float64").to_numpy()
    s = out["followup_rating_sum"].astype("float64").to_numpy()
    q = out["followup_rating_sq_sum"].astype("float64").to_numpy()
    enough = n >= max(rules.min_ratings, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(enough, s / n, np.nan)
        variance = np.where(enough & (n >= 2), np.maximum(q - s * s / n, 0.0) / (n - 1), np.nan)
        stddev = np.sqrt(variance)
        t = _t_quantile(1 - (1 - rules.confidence) / 2, np.where(n >= 2, n - 1, 1))
        half = t * stddev / np.sqrt(n)
        csat = np.where(n > 0, out["satisfied_followups"].astype("float64").to_numpy() / n, np.nan)
    out["score"] = score
    out["score_stddev"] = stddev
    out["score_ci_low"] = np.where(np.isnan(half), np.nan, np.clip(score - half, 1.0, 5.0))
    out["score_ci_high"] = np.where(np.isnan(half), np.nan, np.clip(score + half, 1.0, 5.0))
    out["followup_csat"] = csat
    out["grade"] = pd.Series(
        [rules.grade_of(x) if e else None for x, e in zip(score, enough, strict=True)], index=out.index, dtype=object
    )
    out["rating_status"] = np.where(enough, GRADED, TOO_FEW)
    return out
