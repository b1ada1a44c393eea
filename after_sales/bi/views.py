"""Stable bi_ views over the marts, built from the table registry, (re)created idempotently in any warehouse.

BI tools read these views, never the tables: their names and columns are the contract. The columns come from
after_sales/tables.py (same descriptions as the table comments and the Dagster column schemas); a view adds
only its own computed columns. Tables are never dropped by the warehouse (DELETE + COPY/INSERT), so on
PostgreSQL the views and the grants on them survive every re-materialization.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from after_sales.resources.warehouse import WAREHOUSE_CLASSES, ViewText, Warehouse, WarehouseError, quote_ident
from after_sales.tables import (
    ACTION_EFFECTIVENESS,
    ACTION_EFFECTS,
    ACTION_RANKING,
    BEHAVIOUR_FUNNELS,
    BEHAVIOUR_SIGNALS,
    EVENT_SESSIONS,
    FCT_ORDER_FEEDBACK,
    LANDING_FILES,
    METRICS_DAILY,
    METRICS_DAILY_BY_CAUSE,
    METRICS_DAILY_BY_CHANNEL,
    METRICS_DAILY_BY_SERVICE_ITEM,
    METRICS_ROLLUPS,
    METRICS_ROLLUPS_BY_CAUSE,
    PROBLEM_ORDERS,
    QUARANTINE,
    SERVICE_ITEM_SCORES,
    SIGNAL_ACCURACY,
    STG_ACTIONS,
    WORK_ORDER_FEEDBACK,
    WORK_ORDERS,
    Column,
    TableSpec,
)

VIEW_PREFIX = "bi_"

Qualify = Callable[[str], str]


class Dialect(Protocol):
    """The backend SQL a view may need beyond the standard (each warehouse class provides it)."""

    def hours_until(self, column: str) -> str: ...


@dataclass(frozen=True)
class ViewSpec:
    """One BI view: its name, description and columns (as a TableSpec), the tables it reads, how to select."""

    spec: TableSpec
    sources: tuple[TableSpec, ...]
    select: Callable[[Qualify, Dialect], str]

    @property
    def name(self) -> str:
        """The view's name."""
        return self.spec.name

    def sql(self, qualify: Qualify, dialect: Dialect) -> str:
        """The SELECT in one backend's SQL."""
        return self.select(qualify, dialect)


def _cols(spec: TableSpec, prefix: str = "") -> str:
    """Every column of spec, quoted, in table order."""
    return ", ".join(prefix + quote_ident(c) for c in spec.column_names)


def _passthrough(name: str, source: TableSpec, description: str) -> ViewSpec:
    """A view showing every column of one table as is."""
    spec = TableSpec(name=name, description=description, columns=source.columns)
    return ViewSpec(spec, (source,), lambda q, _dialect: f"SELECT {_cols(source)} FROM {q(source.name)}")


def _open_work_orders(q: Qualify, dialect: Dialect) -> str:
    """Open and reopened work orders with live due-time columns."""
    due = quote_ident("due_at")
    return (
        f"SELECT {_cols(WORK_ORDERS)}, CURRENT_TIMESTAMP > {due} AS {quote_ident('overdue')}, "
        f"{dialect.hours_until(due)} AS {quote_ident('hours_until_due')} "
        f"FROM {q(WORK_ORDERS.name)} WHERE {quote_ident('status')} <> 'resolved'"
    )


def _count_true(column: str, alias: str) -> str:
    """How many rows of the group have column true, as BIGINT in every backend (DuckDB sums to HUGEINT)."""
    return f"CAST(sum(CASE WHEN {quote_ident(column)} THEN 1 ELSE 0 END) AS BIGINT) AS {quote_ident(alias)}"


def _causes_daily(q: Qualify, _dialect: Dialect) -> str:
    """Problem issues counted per day, channel and cause."""
    keys = ", ".join(quote_ident(c) for c in ("business_date", "channel", "cause"))
    return (
        f"SELECT {keys}, count(*) AS {quote_ident('issues')}, "
        f"count(DISTINCT {quote_ident('order_id')}) AS {quote_ident('orders')}, "
        f"{_count_true('is_low_rating', 'low_rating_issues')}, {_count_true('is_complaint', 'complaint_issues')}, "
        f"{_count_true('reopened', 'reopened_issues')} "
        f"FROM {q(PROBLEM_ORDERS.name)} GROUP BY {keys}"
    )


def _quarantine_daily(q: Qualify, _dialect: Dialect) -> str:
    """Rejected rows counted per landing day, source and rule (no raw values: they may hold personal data)."""
    keys = ", ".join(quote_ident(c) for c in ("landing_date", "source", "rule"))
    return (
        f"SELECT {keys}, count(*) AS {quote_ident('rows')}, "
        f"count(DISTINCT {quote_ident('source_file')}) AS {quote_ident('files')} "
        f"FROM {q(QUARANTINE.name)} GROUP BY {keys}"
    )


BI_VIEWS: tuple[ViewSpec, ...] = (
    _passthrough(
        "bi_metrics_daily", METRICS_DAILY, "BI: the daily service measures, one row per business date."
    ),
    _passthrough(
        "bi_order_feedback", FCT_ORDER_FEEDBACK, "BI: orders with their feedback, one row per order and feedback."
    ),
    _passthrough(
        "bi_problem_orders", PROBLEM_ORDERS, "BI: problem issues (low rating or complaint) with their located cause."
    ),
    _passthrough("bi_work_orders", WORK_ORDERS, "BI: every helpdesk work order with suggested actions and SLA."),
    _passthrough(
        "bi_work_order_feedback",
        WORK_ORDER_FEEDBACK,
        "BI: the feedback behind each work order, one row per work order and feedback id (join on work_order_id "
        "to bi_work_orders, on order_scope and feedback_id to bi_problem_orders).",
    ),
    _passthrough(
        "bi_metrics_daily_by_channel", METRICS_DAILY_BY_CHANNEL, "BI: the daily measures per sales channel."
    ),
    _passthrough("bi_metrics_daily_by_cause", METRICS_DAILY_BY_CAUSE, "BI: the daily measures per problem cause."),
    _passthrough(
        "bi_metrics_daily_by_service_item", METRICS_DAILY_BY_SERVICE_ITEM, "BI: the daily measures per service item."
    ),
    _passthrough(
        "bi_metrics_rollups", METRICS_ROLLUPS, "BI: rolling 7/28-day, weekly and monthly figures per channel."
    ),
    _passthrough(
        "bi_metrics_rollups_by_cause", METRICS_ROLLUPS_BY_CAUSE, "BI: rolling and calendar roll-ups per cause."
    ),
    _passthrough(
        "bi_service_item_scores", SERVICE_ITEM_SCORES, "BI: 5-point score, confidence interval and grade per item."
    ),
    ViewSpec(
        TableSpec(
            name="bi_work_orders_open",
            description="BI: work orders not resolved yet (open or reopened), with live overdue columns.",
            columns=(
                *WORK_ORDERS.columns,
                Column("overdue", "bool", "Past due_at now, at query time.", False),
                Column("hours_until_due", "float", "Hours from now until due_at; negative once overdue.", False),
            ),
        ),
        (WORK_ORDERS,),
        _open_work_orders,
    ),
    ViewSpec(
        TableSpec(
            name="bi_causes_daily",
            description="BI: problem issues per business date, channel and located cause.",
            columns=(
                PROBLEM_ORDERS.column("business_date"),
                PROBLEM_ORDERS.column("channel"),
                PROBLEM_ORDERS.column("cause"),
                Column("issues", "int", "Problem issues (feedback rows) with this cause.", False),
                Column("orders", "int", "Distinct orders behind those issues.", False),
                Column("low_rating_issues", "int", "Of the issues, those rated below 3.", False),
                Column("complaint_issues", "int", "Of the issues, complaints, returns, refunds or disputes.", False),
                Column("reopened_issues", "int", "Of the issues, those reopened after resolution.", False),
            ),
        ),
        (PROBLEM_ORDERS,),
        _causes_daily,
    ),
    _passthrough(
        "bi_landing_files",
        LANDING_FILES,
        "BI: landed files seen, loaded and refused per landing date and source (a refused file is in "
        "quarantine_files; the metrics of the days it may feed have complete = false).",
    ),
    ViewSpec(
        TableSpec(
            name="bi_quarantine_daily",
            description="BI: rows rejected by the row rules per landing date, source and rule (data quality).",
            columns=(
                QUARANTINE.column("landing_date"),
                QUARANTINE.column("source"),
                QUARANTINE.column("rule"),
                Column("rows", "int", "Rows rejected by this rule.", False),
                Column("files", "int", "Distinct landed files those rows came from.", False),
            ),
        ),
        (QUARANTINE,),
        _quarantine_daily,
    ),
    # Behaviour (docs/behaviour.md)
    _passthrough(
        "bi_behaviour_signals", BEHAVIOUR_SIGNALS, "BI: problems located from what customers did, with evidence."
    ),
    _passthrough(
        "bi_signal_accuracy", SIGNAL_ACCURACY, "BI: each signal rule's precision, recall and lead time per day."
    ),
    _passthrough("bi_behaviour_funnels", BEHAVIOUR_FUNNELS, "BI: own-site funnels and search analytics per day."),
    _passthrough("bi_event_sessions", EVENT_SESSIONS, "BI: sessions derived from events (30-minute rule)."),
    # The closed loop (docs/behaviour.md)
    _passthrough("bi_service_actions", STG_ACTIONS, "BI: the service actions the helpdesk logged, one row each."),
    _passthrough(
        "bi_action_effects", ACTION_EFFECTS, "BI: each logged action's measured effect in the 7 days after it."
    ),
    _passthrough(
        "bi_action_effectiveness",
        ACTION_EFFECTIVENESS,
        "BI: resolution rate, re-contact, follow-up rating and time to resolve per day, cause and action.",
    ),
    _passthrough(
        "bi_action_ranking", ACTION_RANKING, "BI: each cause's service actions ranked by measured effectiveness."
    ),
)


def view_names() -> list[str]:
    """Names of every BI view."""
    return [v.name for v in BI_VIEWS]


def views_version() -> str:
    """A short hash of every view's SQL (in each backend's dialect) and columns: the bi_views asset's code version."""
    digest = hashlib.sha256()
    for view in BI_VIEWS:
        for backend in WAREHOUSE_CLASSES:
            digest.update(view.sql(lambda t: t, backend).encode())
        digest.update(repr(view.spec).encode())
    return digest.hexdigest()[:12]


def _check_views(views: tuple[ViewSpec, ...]) -> None:
    """Every view is called bi_..., and no two share a name."""
    names = [v.name for v in views]
    if len(set(names)) != len(names) or not all(n.startswith(VIEW_PREFIX) for n in names):
        raise WarehouseError(f"BI views must have distinct names starting with {VIEW_PREFIX!r}: {names}")


def apply_views(wh: Warehouse, views: tuple[ViewSpec, ...] = BI_VIEWS) -> list[str]:
    """Create or replace the views (and their source tables, empty, if missing) in one transaction; return names."""
    _check_views(views)
    wh.replace_views(source_tables(views), [ViewText(v.spec, v.sql(wh.qualified, wh)) for v in views])
    return [v.name for v in views]


def source_tables(views: tuple[ViewSpec, ...]) -> list[TableSpec]:
    """The distinct tables the views read."""
    return list({s.name: s for v in views for s in v.sources}.values())


DOC = Path(__file__).resolve().parents[2] / "docs" / "bi.md"
DOC_BEGIN = "<!-- views:begin (generated by python -m after_sales.bi.views) -->"
DOC_END = "<!-- views:end -->"


def doc_section(views: tuple[ViewSpec, ...] = BI_VIEWS) -> str:
    """Markdown for every view: description, what it reads, the columns it adds to its tables."""
    parts = [DOC_BEGIN, ""]
    for view in views:
        parts.append(f"### `{view.name}`\n\n{view.spec.description}\n")
        inherited = {c.name for s in view.sources for c in s.columns}
        whole = [s.name for s in view.sources if set(s.column_names) <= set(view.spec.column_names)]
        if whole:
            parts.append(
                "Every column of " + ", ".join(f"`{n}`" for n in whole) + " (see [data model](data-model.md))"
                + (", plus:" if len(view.spec.columns) > len(inherited) else ".")
            )
        else:
            parts.append("Reads " + ", ".join(f"`{s.name}`" for s in view.sources) + ". Columns:")
        own = [c for c in view.spec.columns if not whole or c.name not in inherited]
        if own:
            parts.append("\n| column | type | description |\n|---|---|---|")
            parts += [f"| {c.name} | {c.type} | {c.description} |" for c in own]
        parts.append("")
    parts.append(DOC_END)
    return "\n".join(parts)


def render_doc(text: str) -> str:
    """docs/bi.md with its generated views section replaced."""
    head, found, rest = text.partition(DOC_BEGIN)
    if not found:
        raise ValueError(f"{DOC} has no {DOC_BEGIN!r} marker")
    _, _, tail = rest.partition(DOC_END)
    return head + doc_section() + tail


if __name__ == "__main__":
    DOC.write_text(render_doc(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the views section of {DOC}")
