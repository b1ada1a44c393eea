"""The measure registry: every service measure defined once (kind, numerator, denominator, valid range, meaning).

The metric tables' columns (tables.py), the ratio and SLA derivations (SQL generated in transforms/metrics.py), the
range and part-of-whole checks (checks/metrics_checks.py), the report's number formats and the measure table
of docs/metrics.md (docgen.py) all read it. The settings the measures use are in config/metrics.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["count", "sum", "rate", "mean", "sla_rate", "quantile", "derived"]
PRIORITIES = ("P1", "P2", "P3")


@dataclass(frozen=True)
class Measure:
    """One measure: how it is computed from other measures (or rows), what values it may take, what it means."""

    name: str
    kind: Kind
    description: str
    numerator: str | None = None  # rate, mean: numerator / denominator; sla_rate: met / (met + denominator)
    denominator: str | None = None
    rows: str | None = None  # quantile: the hours column of the ticket or work-order rows
    quantile: float | None = None
    low: float | None = 0.0
    high: float | None = None
    part_of: str | None = None  # a measure this one never exceeds on a row (satisfied <= rated, ...)

    @property
    def type(self) -> str:
        """The column's logical type: counts are ints, money sums money, everything else a float."""
        if self.kind == "count":
            return "int"
        if self.kind == "sum" and "amount" in self.name:
            return "money"
        return "float"

    @property
    def nullable(self) -> bool:
        """Counts and sums are never null; a ratio without a denominator, a percentile without rows are."""
        return self.kind not in ("count", "sum")

    @property
    def additive(self) -> bool:
        """Whether the measure adds up over days and channels (every other one is derived from those)."""
        return self.kind in ("count", "sum")

    @property
    def is_share(self) -> bool:
        """Whether the value is a share (shown as a percentage)."""
        return self.kind in ("rate", "sla_rate")

    def formula(self) -> str:
        """How the measure is computed, as text for the docs."""
        if self.kind in ("rate", "mean"):
            return f"{self.numerator} / {self.denominator}"
        if self.kind == "sla_rate":
            return f"{self.numerator} / ({self.numerator} + {self.denominator})"
        if self.kind == "quantile":
            return f"p{round(100 * (self.quantile or 0))} of {self.rows} (linear)"
        return ""

    def range_text(self) -> str:
        """The valid range as text, e.g. '0-1', '>= 0'."""
        if self.low is None and self.high is None:
            return "any"
        if self.high is None:
            return f">= {self.low:g}"
        return f"{self.low:g}-{self.high:g}"


def _count(name: str, description: str, part_of: str | None = None) -> Measure:
    return Measure(name, "count", description, part_of=part_of)


def _sum(name: str, description: str) -> Measure:
    return Measure(name, "sum", description)


def _rate(name: str, numerator: str, denominator: str, description: str) -> Measure:
    return Measure(name, "rate", description, numerator, denominator, high=1.0)


def _mean(name: str, numerator: str, denominator: str, description: str) -> Measure:
    return Measure(name, "mean", description, numerator, denominator)


def _quantile(name: str, rows: str, q: float, description: str, part_of: str | None = None) -> Measure:
    return Measure(name, "quantile", description, rows=rows, quantile=q, part_of=part_of)


def _per_priority(p: str) -> tuple[Measure, ...]:
    low = p.lower()
    return (
        _count(f"work_orders_{low}", f"Work orders of priority {p}."),
        _count(f"sla_met_{low}", f"{p} work orders resolved by due_at."),
        _count(f"sla_breached_{low}", f"{p} work orders with sla_breached."),
        Measure(
            f"sla_achieved_rate_{low}",
            "sla_rate",
            f"sla_met_{low} / (sla_met_{low} + sla_breached_{low}).",
            f"sla_met_{low}",
            f"sla_breached_{low}",
            high=1.0,
        ),
    )


# The measures of metrics_daily, in its column order (metrics_daily_by_channel and metrics_rollups reuse them).
DAILY_MEASURES: tuple[Measure, ...] = (
    _count("orders", "The row's orders: distinct (order_scope, order_id) in fct_order_feedback."),
    _count("orders_with_feedback", "Of those, orders with at least one feedback row.", "orders"),
    _count("feedback_count", "Feedback rows (reviews and tickets) on those orders."),
    _count("problem_orders", "Orders with at least one problem issue (rating < 3 or complaint type).", "orders"),
    _rate(
        "complaint_rate", "problem_orders", "orders", "Complaint rate: problem_orders / orders; null without orders."
    ),
    _count("visitors", "Distinct visitor_id over own-site sessions starting on D."),
    Measure(
        "visitors_trailing_7d_mean",
        "derived",
        "Mean of daily visitors over D-7..D-1, over the days that have sessions, as staged when D was built.",
    ),
    Measure(
        "rolling_visitor_rate",
        "derived",
        "Traffic-surge signal, not a service score: visitors / visitors_trailing_7d_mean (fixed when D is built; "
        "metrics_rollups has the backfill-safe value).",
    ),
    _count("sessions", "Own-site sessions starting on D."),
    _count("sessions_with_submission", "Of those, sessions that submitted the after-sales form."),
    _rate(
        "submission_rate",
        "sessions_with_submission",
        "sessions",
        "Submission rate: sessions_with_submission / sessions.",
    ),
    _count(
        "effective_after_sales_count",
        "Effective after-sales: tickets with a first response, resolved with a resolution other than rejected, "
        "not reopened.",
        "handled_tickets",
    ),
    _count("handled_tickets", "Tickets with a resolved_at.", "tickets"),
    _mean(
        "handling_time_hours_mean",
        "handling_time_hours_sum",
        "handled_tickets",
        "Handling (dwell) time: handling_time_hours_sum / handled_tickets.",
    ),
    _quantile(
        "handling_time_hours_median",
        "handling_hours",
        0.5,
        "Median over handled tickets of hours from feedback created_at to resolved_at.",
    ),
    _count("work_orders", "The row's work orders (one per problem order and matched cause)."),
    _sum("order_amount", "Sum of amount over the row's orders, in yuan."),
    _count("tickets", "Tickets: feedback rows on the row's orders whose issue_type is not review."),
    _sum("handling_time_hours_sum", "Sum over handled tickets of hours from feedback created_at to resolved_at."),
    _count("rated_tickets", "Tickets with a rating.", "tickets"),
    _count(
        "satisfied_tickets", "Rated tickets rated at or above csat_min_rating (4) of metrics.yaml.", "rated_tickets"
    ),
    _rate(
        "csat",
        "satisfied_tickets",
        "rated_tickets",
        "CSAT: satisfied_tickets / rated_tickets; null without rated tickets.",
    ),
    _count("responded_tickets", "Tickets with a first_response_at.", "tickets"),
    _sum(
        "first_response_hours_sum",
        "Sum over responded tickets of hours from feedback created_at to first_response_at.",
    ),
    _mean(
        "first_response_hours_mean",
        "first_response_hours_sum",
        "responded_tickets",
        "First response time: first_response_hours_sum / responded_tickets.",
    ),
    _quantile(
        "first_response_hours_median",
        "first_response_hours",
        0.5,
        "Median first-response hours over responded tickets.",
        "first_response_hours_p90",
    ),
    _quantile(
        "first_response_hours_p90",
        "first_response_hours",
        0.9,
        "90th percentile (linear interpolation) of first-response hours over responded tickets.",
    ),
    _count("reopened_tickets", "Handled tickets reopened after resolution.", "handled_tickets"),
    _rate("reopen_rate", "reopened_tickets", "handled_tickets", "Reopen rate: reopened_tickets / handled_tickets."),
    _count("resolved_work_orders", "Work orders with a resolved_at (every issue behind them resolved).", "work_orders"),
    _sum(
        "resolution_hours_sum",
        "Sum over resolved work orders of hours from opened_at to resolved_at (full resolution time).",
    ),
    _mean(
        "resolution_hours_mean",
        "resolution_hours_sum",
        "resolved_work_orders",
        "Full resolution time: resolution_hours_sum / resolved_work_orders.",
    ),
    _quantile(
        "resolution_hours_median",
        "resolution_hours",
        0.5,
        "Median full-resolution hours over resolved work orders.",
        "resolution_hours_p90",
    ),
    _quantile(
        "resolution_hours_p90",
        "resolution_hours",
        0.9,
        "90th percentile (linear interpolation) of full-resolution hours over resolved work orders.",
    ),
    _count(
        "one_touch_work_orders",
        "One-touch (first-contact) resolutions: resolved work orders with status resolved (not reopened), one "
        "problem feedback, and no later ticket on the order.",
        "resolved_work_orders",
    ),
    _rate(
        "one_touch_rate",
        "one_touch_work_orders",
        "resolved_work_orders",
        "One-touch rate: one_touch_work_orders / resolved_work_orders.",
    ),
    _count("sla_met", "Work orders resolved by due_at."),
    _count(
        "sla_breached",
        "Work orders with sla_breached (resolved after due_at, or open past due_at at the work-order build).",
    ),
    _count("sla_pending", "Work orders still open and not yet past due_at at the work-order build."),
    Measure(
        "sla_achieved_rate",
        "sla_rate",
        "SLA achieved: sla_met / (sla_met + sla_breached).",
        "sla_met",
        "sla_breached",
        high=1.0,
    ),
    *(m for p in PRIORITIES for m in _per_priority(p)),
    _count(
        "refund_orders",
        "Orders with a feedback whose issue_type is a refund type of metrics.yaml (refund, return) or whose "
        "refund_amount > 0.",
        "orders",
    ),
    _rate("refund_rate", "refund_orders", "orders", "Refund rate: refund_orders / orders."),
    _sum("refund_amount", "Sum of refund_amount over feedback rows on the row's orders, in yuan."),
    _count("dispute_orders", "Orders with a feedback whose issue_type is a dispute type of metrics.yaml.", "orders"),
    _rate("dispute_rate", "dispute_orders", "orders", "Dispute rate: dispute_orders / orders."),
)
# The measures only the breakdown, roll-up and score tables have.
OTHER_MEASURES: tuple[Measure, ...] = (
    # Breakdowns by cause and service item
    _count("problem_issues", "Problem issues (problem_orders rows) whose primary cause is this one."),
    _count("reopened_work_orders", "Work orders with status reopened."),
    _count(
        "followup_ratings",
        "Work orders with a follow-up rating: the latest rated feedback on the same order created after the work "
        "order opened.",
        "work_orders",
    ),
    _count("satisfied_followups", "Follow-up ratings at or above csat_min_rating (4).", "followup_ratings"),
    _count("followup_rating_sum", "Sum of the follow-up ratings (1-5)."),
    _count("followup_rating_sq_sum", "Sum of the squared follow-up ratings (for the standard deviation)."),
    Measure(
        "followup_score",
        "mean",
        "Mean follow-up rating: followup_rating_sum / followup_ratings.",
        "followup_rating_sum",
        "followup_ratings",
        low=1.0,
        high=5.0,
    ),
    _rate("followup_csat", "satisfied_followups", "followup_ratings", "satisfied_followups / followup_ratings."),
    _count("suggested_work_orders", "Work orders that list the item among their suggested actions."),
    _count("used_by_resolution", "Of those, work orders whose item was recognised from the resolution.", "work_orders"),
    _count(
        "used_by_log",
        "Of those, work orders whose item is the last action the helpdesk logged for it (stg_actions).",
        "work_orders",
    ),
    # Roll-ups: site traffic and the backlog
    _count("visitor_days", "Channel all only: sum of the daily distinct visitors over the period."),
    Measure("visitors_daily_mean", "derived", "Channel all only: visitor_days / days_with_data."),
    _count(
        "backlog_work_orders",
        "Backlog at the end of as_of_date: work orders of orders placed in the backlog_lookback_days up to "
        "as_of_date, opened before and not resolved by that instant.",
    ),
    _count("backlog_overdue", "Of the backlog, work orders past due_at at that instant.", "backlog_work_orders"),
    Measure("backlog_age_hours_mean", "derived", "Mean age of the backlog: hours from opened_at to that instant."),
    Measure("backlog_age_hours_median", "derived", "Median age of the backlog, in hours."),
    Measure("backlog_age_hours_max", "derived", "Age of the oldest backlog work order, in hours."),
    # Service-item scores
    Measure(
        "score",
        "derived",
        "Mean follow-up rating (1-5): followup_rating_sum / followup_ratings.",
        low=1.0,
        high=5.0,
        part_of="score_ci_high",
    ),
    Measure("score_stddev", "derived", "Sample standard deviation of the follow-up ratings."),
    Measure(
        "score_ci_low",
        "derived",
        "Lower bound of the t confidence interval of the score (level in metrics.yaml).",
        low=1.0,
        high=5.0,
        part_of="score",
    ),
    Measure("score_ci_high", "derived", "Upper bound of that interval (clipped to 1-5).", low=1.0, high=5.0),
)
MEASURES = DAILY_MEASURES + OTHER_MEASURES
MEASURE: dict[str, Measure] = {m.name: m for m in MEASURES}
if len(MEASURE) != len(MEASURES):
    raise ValueError("two measures share a name")
