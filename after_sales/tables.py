"""Every warehouse table in one place: columns, logical types, descriptions, keys.

This registry is the contract between transforms, the warehouse writers (DDL and
type coercion), the Dagster column-schema metadata and the BI documentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import dagster as dg

# Logical type -> SQL type per backend family.
SQL_TYPES: dict[str, dict[str, str]] = {
    "text": {"duckdb": "VARCHAR", "postgresql": "TEXT", "generic": "TEXT"},
    "int": {"duckdb": "BIGINT", "postgresql": "BIGINT", "generic": "BIGINT"},
    "float": {"duckdb": "DOUBLE", "postgresql": "DOUBLE PRECISION", "generic": "FLOAT"},
    "money": {"duckdb": "DECIMAL(18,2)", "postgresql": "NUMERIC(18,2)", "generic": "NUMERIC(18,2)"},
    "bool": {"duckdb": "BOOLEAN", "postgresql": "BOOLEAN", "generic": "BOOLEAN"},
    "date": {"duckdb": "DATE", "postgresql": "DATE", "generic": "DATE"},
    "timestamptz": {
        "duckdb": "TIMESTAMPTZ",
        "postgresql": "TIMESTAMPTZ",
        "generic": "TIMESTAMP",
    },
}


@dataclass(frozen=True)
class Column:
    """One column: name, logical type, description, nullability."""

    name: str
    type: str
    description: str
    nullable: bool = True

    def __post_init__(self) -> None:
        if self.type not in SQL_TYPES:
            raise ValueError(f"column {self.name}: unknown logical type {self.type!r}")


@dataclass(frozen=True)
class TableSpec:
    """One warehouse table."""

    name: str
    description: str
    columns: tuple[Column, ...]
    partition_column: str | None = None
    primary_key: tuple[str, ...] = ()
    scope_columns: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        """Column names in table order."""
        return [c.name for c in self.columns]

    def renamed(self, name: str, description: str | None = None) -> TableSpec:
        """The same columns under another table name (per-source staging tables)."""
        return replace(self, name=name, description=description or self.description)

    def column(self, name: str) -> Column:
        """The column called name."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def dagster_schema(self) -> dg.TableSchema:
        """The column schema Dagster shows on the asset page."""
        return dg.TableSchema(
            columns=[
                dg.TableColumn(
                    name=c.name,
                    type=c.type,
                    description=c.description,
                    constraints=dg.TableColumnConstraints(nullable=c.nullable),
                )
                for c in self.columns
            ]
        )


def _lineage(partition: str = "landing_date") -> tuple[Column, ...]:
    return (
        Column(partition, "date", "Partition: the day the file landed (landing folder date).", False),
        Column("source", "text", "Landing source the row came from (orders, feedback, taobao, ...).", False),
        Column("source_file", "text", "Path of the landed file, relative to the landing directory.", False),
        Column("source_row", "int", "1-based data row number within source_file (header excluded).", False),
    )


STG_ORDERS = TableSpec(
    name="stg_orders",
    description="Orders from every channel, typed and normalized, one row per landed order row.",
    partition_column="landing_date",
    primary_key=("landing_date", "source", "order_id"),
    columns=(
        Column("order_id", "text", "Order id, exact text (marketplace ids are 18-19 digits).", False),
        Column("created_at", "timestamptz", "When the order was placed.", False),
        Column("business_date", "date", "created_at as a date in the business time zone.", False),
        Column("user_id", "text", "Buyer id or nickname."),
        Column("product", "text", "Product name or title."),
        Column("quantity", "int", "Units ordered."),
        Column("amount", "money", "Amount paid, in yuan.", False),
        Column("payment_method", "text", "Payment method (alipay, wechat, card, ...)."),
        Column("status", "text", "Canonical order status (see docs/data-model.md).", False),
        Column("status_raw", "text", "Status exactly as the source wrote it."),
        Column("channel", "text", "Sales channel: web, app, taobao, tmall, jd, suning, yhd, ...", False),
        *_lineage(),
    ),
)

STG_FEEDBACK = TableSpec(
    name="stg_feedback",
    description="After-sales tickets, reviews and refund requests, one row per landed feedback row.",
    partition_column="landing_date",
    primary_key=("landing_date", "source", "feedback_id"),
    columns=(
        Column("feedback_id", "text", "Ticket, review or refund id.", False),
        Column("order_id", "text", "Order the feedback is about.", False),
        Column("created_at", "timestamptz", "When the customer submitted it.", False),
        Column("business_date", "date", "created_at as a date in the business time zone.", False),
        Column("rating", "int", "Customer rating 1-5; null when the ticket carries none."),
        Column("issue_type", "text", "Ticket type: review, inquiry, complaint, return, refund, ..."),
        Column("issue_description", "text", "Free text from the customer, Chinese or English."),
        Column("first_response_at", "timestamptz", "First agent response; null if none yet."),
        Column("resolved_at", "timestamptz", "When the ticket was resolved; null while open."),
        Column("resolution", "text", "Outcome: refunded, replaced, repaired, compensated, info_provided, rejected."),
        Column("reopened", "bool", "True when the customer reopened the ticket after resolution.", False),
        Column("refund_amount", "money", "Refund asked or granted, in yuan; null when none."),
        Column("refund_status", "text", "Canonical refund state for refund rows; null otherwise."),
        Column("refund_status_raw", "text", "Refund state exactly as the source wrote it."),
        Column("channel", "text", "Marketplace channel for marketplace feedback; null for the own helpdesk."),
        *_lineage(),
    ),
)

STG_BEHAVIOUR = TableSpec(
    name="stg_behaviour",
    description="Own-site sessions from the behaviour log, one row per landed session row.",
    partition_column="landing_date",
    primary_key=("landing_date", "source", "session_id"),
    columns=(
        Column("session_id", "text", "Session id.", False),
        Column("visitor_id", "text", "Visitor (cookie or user) id.", False),
        Column("started_at", "timestamptz", "Session start.", False),
        Column("ended_at", "timestamptz", "Session end."),
        Column("business_date", "date", "started_at as a date in the business time zone.", False),
        Column("pages", "int", "Pages viewed in the session."),
        Column("submitted_after_sales_form", "bool", "Whether the visitor submitted the after-sales form.", False),
        *_lineage(),
    ),
)

FCT_ORDER_FEEDBACK = TableSpec(
    name="fct_order_feedback",
    description=(
        "Orders joined with their feedback, partitioned by the order's business date: one row per "
        "order and feedback; orders without feedback keep one row with empty feedback columns."
    ),
    partition_column="business_date",
    primary_key=("business_date", "order_id", "feedback_id"),
    columns=(
        Column("business_date", "date", "Partition: the order's business date.", False),
        Column("order_id", "text", "Order id.", False),
        Column("order_created_at", "timestamptz", "When the order was placed.", False),
        Column("channel", "text", "Sales channel.", False),
        Column("user_id", "text", "Buyer id."),
        Column("product", "text", "Product name."),
        Column("quantity", "int", "Units ordered."),
        Column("amount", "money", "Amount paid, in yuan.", False),
        Column("payment_method", "text", "Payment method."),
        Column("order_status", "text", "Canonical order status.", False),
        Column("feedback_id", "text", "Feedback id; null for an order without feedback."),
        Column("feedback_created_at", "timestamptz", "When the feedback was submitted."),
        Column("rating", "int", "Rating 1-5."),
        Column("issue_type", "text", "Ticket type."),
        Column("issue_description", "text", "Customer text."),
        Column("first_response_at", "timestamptz", "First agent response."),
        Column("resolved_at", "timestamptz", "Resolution time."),
        Column("resolution", "text", "Outcome."),
        Column("reopened", "bool", "Reopened after resolution."),
        Column("refund_amount", "money", "Refund amount, in yuan."),
        Column("has_feedback", "bool", "True when the row carries a feedback.", False),
        Column("is_problem", "bool", "Rating below 3 or a complaint, return, refund or dispute.", False),
    ),
)

PROBLEM_ORDERS = TableSpec(
    name="problem_orders",
    description=(
        "Problem issues: each feedback rated below 3 or raising a complaint, return, refund or "
        "dispute, located to one cause by the rule table."
    ),
    partition_column="business_date",
    primary_key=("business_date", "order_id", "feedback_id"),
    columns=(
        Column("business_date", "date", "Partition: the order's business date.", False),
        Column("order_id", "text", "Order id.", False),
        Column("feedback_id", "text", "Feedback that raised the problem.", False),
        Column("channel", "text", "Sales channel.", False),
        Column("amount", "money", "Order amount, in yuan.", False),
        Column("feedback_created_at", "timestamptz", "When the feedback was submitted.", False),
        Column("rating", "int", "Rating 1-5, if given."),
        Column("issue_type", "text", "Ticket type."),
        Column("issue_description", "text", "Customer text."),
        Column("is_low_rating", "bool", "Rating below 3.", False),
        Column("is_complaint", "bool", "Ticket type is a complaint, return, refund or dispute.", False),
        Column("cause", "text", "Located cause: payment, not_delivered, cumbersome_return, quality, other.", False),
        Column("matched_causes", "text", "Every cause whose rule matched, comma-separated, in rule order.", False),
        Column("resolved_at", "timestamptz", "Resolution time of the feedback."),
        Column("reopened", "bool", "Reopened after resolution."),
    ),
)

WORK_ORDERS = TableSpec(
    name="work_orders",
    description="Helpdesk work orders: one per problem order and matched cause, with suggested actions and SLA.",
    partition_column="business_date",
    primary_key=("work_order_id",),
    columns=(
        Column("work_order_id", "text", "Stable id: WO- and a hash of order id and cause.", False),
        Column("business_date", "date", "Partition: the order's business date.", False),
        Column("order_id", "text", "Order id.", False),
        Column("channel", "text", "Sales channel.", False),
        Column("cause", "text", "Located cause.", False),
        Column("feedback_ids", "text", "Feedback ids behind this work order, comma-separated.", False),
        Column("issue_count", "int", "Number of problem feedbacks behind this work order.", False),
        Column("min_rating", "int", "Lowest rating among them."),
        Column("suggested_action", "text", "First suggested service action (e.g. 查看物流进度).", False),
        Column("suggested_actions", "text", "All suggested service actions, in order, joined by ' | '.", False),
        Column("priority", "text", "P1 (urgent) to P3.", False),
        Column("sla_hours", "int", "Hours allowed to resolve at this priority.", False),
        Column("status", "text", "open, resolved or reopened.", False),
        Column("opened_at", "timestamptz", "Earliest feedback time behind the work order.", False),
        Column("due_at", "timestamptz", "opened_at plus sla_hours.", False),
        Column("resolved_at", "timestamptz", "Latest resolution time, when every issue is resolved."),
        Column("sla_breached", "bool", "Resolved after due_at, or still open past due_at at build time.", False),
    ),
)

METRICS_DAILY = TableSpec(
    name="metrics_daily",
    description="The daily service measures over all channels (definitions in docs/metrics.md).",
    partition_column="business_date",
    primary_key=("business_date",),
    columns=(
        Column("business_date", "date", "Partition: business date.", False),
        Column("orders", "int", "Orders placed that day.", False),
        Column("orders_with_feedback", "int", "Of those, orders with at least one feedback.", False),
        Column("feedback_count", "int", "Feedback rows on those orders.", False),
        Column("problem_orders", "int", "Orders with at least one problem issue.", False),
        Column("complaint_rate", "float", "problem_orders / orders."),
        Column("visitors", "int", "Distinct visitors with a session starting that day.", False),
        Column("visitors_trailing_7d_mean", "float", "Mean daily visitors over the 7 days before."),
        Column("rolling_visitor_rate", "float", "visitors / visitors_trailing_7d_mean (traffic signal)."),
        Column("sessions", "int", "Sessions starting that day.", False),
        Column("sessions_with_submission", "int", "Sessions that submitted the after-sales form.", False),
        Column("submission_rate", "float", "sessions_with_submission / sessions."),
        Column("effective_after_sales_count", "int", "Tickets answered and resolved or informed, not reopened.", False),
        Column("handled_tickets", "int", "Feedback with a resolution time.", False),
        Column("handling_time_hours_mean", "float", "Mean hours from feedback to resolution."),
        Column("handling_time_hours_median", "float", "Median hours from feedback to resolution."),
        Column("work_orders", "int", "Work orders opened for that day's orders.", False),
    ),
)

QUARANTINE = TableSpec(
    name="quarantine",
    description="Rows rejected by a row rule, with the rule, a readable reason and the raw values.",
    partition_column="landing_date",
    columns=(
        Column("landing_date", "date", "Partition: landing date of the file the row came from.", False),
        Column("source", "text", "Landing source.", False),
        Column("source_file", "text", "Path of the landed file, relative to the landing directory.", False),
        Column("source_row", "int", "1-based data row number within source_file.", False),
        Column("column_name", "text", "Column that broke the rule, if one column did."),
        Column("rule", "text", "Rule broken (missing_id, unparseable_date, duplicate_row, ...).", False),
        Column("reason", "text", "Readable reason naming file, row, column and value.", False),
        Column("raw", "text", "The row as landed, JSON object of strings.", False),
    ),
)

DATA_QUALITY_RUNS = TableSpec(
    name="data_quality_runs",
    description="One row per asset check per partition per run: rule, outcome and row counts, for charting over time.",
    partition_column="partition_date",
    columns=(
        Column("partition_date", "date", "Partition the row is about.", False),
        Column("run_id", "text", "Dagster run id.", False),
        Column("asset", "text", "Asset checked.", False),
        Column("check_name", "text", "Dagster asset check (schema, keys, values, window, rows_conserved, ...).", False),
        Column("rule", "text", "The expectation or rule, e.g. expect_column_values_to_be_between(rating).", False),
        Column("column_name", "text", "Column the rule is about, if one."),
        Column("blocking", "bool", "Whether a failure stops downstream assets.", False),
        Column("passed", "bool", "Whether the rule held for this partition.", False),
        Column("element_count", "int", "Rows the rule looked at in this partition."),
        Column("unexpected_count", "int", "Rows that broke the rule in this partition."),
        Column("rows_read", "int", "Staging conservation: rows read from landed files."),
        Column("rows_staged", "int", "Staging conservation: rows written to the staging table."),
        Column("rows_quarantined", "int", "Staging conservation: rows sent to quarantine (duplicates included)."),
        Column("duplicates_removed", "int", "Staging conservation: duplicate rows among the quarantined."),
        Column("sample_values", "text", "A few unexpected values, JSON."),
        Column("evaluated_at", "timestamptz", "When the check ran.", False),
    ),
)

ALL_TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        STG_ORDERS,
        STG_FEEDBACK,
        STG_BEHAVIOUR,
        FCT_ORDER_FEEDBACK,
        PROBLEM_ORDERS,
        WORK_ORDERS,
        METRICS_DAILY,
        QUARANTINE,
        DATA_QUALITY_RUNS,
    )
}


def register_table(spec: TableSpec) -> TableSpec:
    """Add a table built at definition time (per-source staging tables) to the registry."""
    existing = ALL_TABLES.get(spec.name)
    if existing is not None and existing != spec:
        raise ValueError(f"table {spec.name} is already registered with other columns")
    ALL_TABLES[spec.name] = spec
    return spec


def table_spec(name: str) -> TableSpec:
    """The registered table called name."""
    try:
        return ALL_TABLES[name]
    except KeyError:
        raise KeyError(f"no table spec registered for {name!r}; known: {', '.join(sorted(ALL_TABLES))}") from None
