"""Every warehouse table in one place: columns, logical types, descriptions, keys.

This registry is the contract between transforms, the warehouse writers (DDL and
type coercion), the Dagster column-schema metadata and the BI documentation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import dagster as dg

# Logical type -> SQL type per backend family. money is exact end to end: parsed as decimals
# (transforms/parsing.py parse_money), held in pandas as Arrow decimal128(18,2), written and read as such.
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
    copy_of: str | None = None

    @property
    def column_names(self) -> list[str]:
        """Column names in table order."""
        return [c.name for c in self.columns]

    def renamed(self, name: str, description: str | None = None) -> TableSpec:
        """The same columns under another table name (per-source staging tables)."""
        return replace(self, name=name, description=description or self.description, copy_of=self.name)

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
        Column("found_by", "text", "How the problem was found: feedback, or both when a behaviour signal of a matched "
               "cause was detected on the order in the 7 days before the feedback (docs/behaviour.md).", False),
        Column("found_at", "timestamptz", "When it was first found: that signal's detected_at, else the feedback "
               "time.", False),
        Column("signal_rule", "text", "The behaviour signal rule that found it first, if any."),
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
        Column("issue_count", "int", "Number of problem feedbacks behind this work order.", False),
        Column("min_rating", "int", "Lowest rating among them."),
        Column("suggested_action", "text", "First suggested service action (e.g. 查看物流进度).", False),
        Column("suggested_actions", "text", "All suggested service actions, in order, joined by ' | '.", False),
        Column("priority", "text", "P1 (urgent) to P3.", False),
        Column("sla_hours", "int", "Hours allowed to resolve at this priority.", False),
        Column("status", "text", "open, resolved or reopened.", False),
        Column("opened_at", "timestamptz", "Earliest feedback time behind the work order.", False),
        Column(
            "due_at",
            "timestamptz",
            "opened_at plus sla_hours; for a proactive work order a complaint joined, the first complaint plus "
            "sla_hours (the SLA runs from the customer's complaint).",
            False,
        ),
        Column("resolved_at", "timestamptz", "Latest resolution time, when every issue is resolved."),
        Column("sla_breached", "bool", "Resolved after due_at, or still open past due_at at build time.", False),
        Column("found_by", "text", "feedback, behaviour (opened from a behaviour signal, no complaint yet) or both.",
               False),
        Column("proactive", "bool", "Opened from a behaviour signal before any complaint (opened_at is the "
               "signal's detected_at); a later complaint joins this work order.", False),
        Column("first_signal_at", "timestamptz", "First behaviour signal of this order and cause, if any."),
        Column("signal_rule", "text", "The rule of that signal."),
    ),
)

WORK_ORDER_FEEDBACK = TableSpec(
    name="work_order_feedback",
    description=(
        "The feedback behind each work order, one row per work order and feedback id (a bridge table: ids are "
        "stored as values, never joined into one string). Written with work_orders in the same transaction."
    ),
    partition_column="business_date",
    primary_key=("work_order_id", "feedback_id"),
    columns=(
        Column("business_date", "date", "Partition: the order's business date (as in work_orders).", False),
        Column("work_order_id", "text", "Work order (work_orders.work_order_id).", False),
        Column("feedback_id", "text", "A problem feedback behind it (problem_orders.feedback_id), exact text.", False),
    ),
)

# A day whose landing files were refused as a whole (quarantine_files) is flagged, so a dashboard never shows a
# partial day as a whole one. Rows of business date D land from D to D + AFTER_SALES_LATE_ARRIVAL_DAYS.
COMPLETENESS_COLUMNS = (
    Column(
        "files_refused",
        "int",
        "Landing files refused as a whole (quarantine_files) that may hold rows of this row: landed from D to "
        "D + AFTER_SALES_LATE_ARRIVAL_DAYS, from a source feeding it, as known when the row was built.",
        False,
    ),
    Column("complete", "bool", "True when files_refused is 0: no landed file of the row's sources was refused.", False),
)

METRICS_DAILY = TableSpec(
    name="metrics_daily",
    description=(
        "The daily service measures over all channels, one row per business date D: additive counts and sums "
        "with the rates, means and percentiles computed from them. A row's orders are the orders placed on D; "
        "its tickets are the feedback rows on those orders whose issue_type is not review; its work orders "
        "are the work orders of those orders (definitions in docs/metrics.md)."
    ),
    partition_column="business_date",
    primary_key=("business_date",),
    columns=(
        Column("business_date", "date", "Partition: business date D (order date in AFTER_SALES_TIMEZONE).", False),
        Column("orders", "int", "The row's orders: distinct order_id in fct_order_feedback.", False),
        Column("orders_with_feedback", "int", "Of those, orders with at least one feedback row.", False),
        Column("feedback_count", "int", "Feedback rows (reviews and tickets) on those orders.", False),
        Column(
            "problem_orders", "int", "Orders with at least one problem issue (rating < 3 or complaint type).", False
        ),
        Column("complaint_rate", "float", "Complaint rate: problem_orders / orders; null without orders."),
        Column("visitors", "int", "Distinct visitor_id over own-site sessions starting on D.", False),
        Column(
            "visitors_trailing_7d_mean",
            "float",
            "Mean of daily visitors over D-7..D-1, over the days that have sessions, as staged when D was built.",
        ),
        Column(
            "rolling_visitor_rate",
            "float",
            "Traffic-surge signal, not a service score: visitors / visitors_trailing_7d_mean (fixed when D is built; "
            "metrics_rollups has the backfill-safe value).",
        ),
        Column("sessions", "int", "Own-site sessions starting on D.", False),
        Column("sessions_with_submission", "int", "Of those, sessions that submitted the after-sales form.", False),
        Column("submission_rate", "float", "Submission rate: sessions_with_submission / sessions."),
        Column(
            "effective_after_sales_count",
            "int",
            "Effective after-sales: tickets with a first response, resolved with a resolution other than rejected, "
            "not reopened.",
            False,
        ),
        Column("handled_tickets", "int", "Tickets with a resolved_at.", False),
        Column(
            "handling_time_hours_mean", "float", "Handling (dwell) time: handling_time_hours_sum / handled_tickets."
        ),
        Column(
            "handling_time_hours_median",
            "float",
            "Median over handled tickets of hours from feedback created_at to resolved_at.",
        ),
        Column("work_orders", "int", "The row's work orders (one per problem order and matched cause).", False),
        Column("order_amount", "money", "Sum of amount over the row's orders, in yuan.", False),
        Column("tickets", "int", "Tickets: feedback rows on the row's orders whose issue_type is not review.", False),
        Column(
            "handling_time_hours_sum",
            "float",
            "Sum over handled tickets of hours from feedback created_at to resolved_at.",
            False,
        ),
        Column("rated_tickets", "int", "Tickets with a rating.", False),
        Column(
            "satisfied_tickets", "int", "Rated tickets rated at or above csat_min_rating (4) of metrics.yaml.", False
        ),
        Column("csat", "float", "CSAT: satisfied_tickets / rated_tickets; null without rated tickets."),
        Column("responded_tickets", "int", "Tickets with a first_response_at.", False),
        Column(
            "first_response_hours_sum",
            "float",
            "Sum over responded tickets of hours from feedback created_at to first_response_at.",
            False,
        ),
        Column(
            "first_response_hours_mean", "float", "First response time: first_response_hours_sum / responded_tickets."
        ),
        Column("first_response_hours_median", "float", "Median first-response hours over responded tickets."),
        Column(
            "first_response_hours_p90",
            "float",
            "90th percentile (linear interpolation) of first-response hours over responded tickets.",
        ),
        Column("reopened_tickets", "int", "Handled tickets reopened after resolution.", False),
        Column("reopen_rate", "float", "Reopen rate: reopened_tickets / handled_tickets."),
        Column(
            "resolved_work_orders", "int", "Work orders with a resolved_at (every issue behind them resolved).", False
        ),
        Column(
            "resolution_hours_sum",
            "float",
            "Sum over resolved work orders of hours from opened_at to resolved_at (full resolution time).",
            False,
        ),
        Column("resolution_hours_mean", "float", "Full resolution time: resolution_hours_sum / resolved_work_orders."),
        Column("resolution_hours_median", "float", "Median full-resolution hours over resolved work orders."),
        Column(
            "resolution_hours_p90",
            "float",
            "90th percentile (linear interpolation) of full-resolution hours over resolved work orders.",
        ),
        Column(
            "one_touch_work_orders",
            "int",
            "One-touch (first-contact) resolutions: resolved work orders with status resolved (not reopened), one "
            "problem feedback, and no later ticket on the order.",
            False,
        ),
        Column("one_touch_rate", "float", "One-touch rate: one_touch_work_orders / resolved_work_orders."),
        Column("sla_met", "int", "Work orders resolved by due_at.", False),
        Column(
            "sla_breached",
            "int",
            "Work orders with sla_breached (resolved after due_at, or open past due_at at the work-order build).",
            False,
        ),
        Column("sla_pending", "int", "Work orders still open and not yet past due_at at the work-order build.", False),
        Column("sla_achieved_rate", "float", "SLA achieved: sla_met / (sla_met + sla_breached)."),
        Column("work_orders_p1", "int", "Work orders of priority P1.", False),
        Column("sla_met_p1", "int", "P1 work orders resolved by due_at.", False),
        Column("sla_breached_p1", "int", "P1 work orders with sla_breached.", False),
        Column("sla_achieved_rate_p1", "float", "sla_met_p1 / (sla_met_p1 + sla_breached_p1)."),
        Column("work_orders_p2", "int", "Work orders of priority P2.", False),
        Column("sla_met_p2", "int", "P2 work orders resolved by due_at.", False),
        Column("sla_breached_p2", "int", "P2 work orders with sla_breached.", False),
        Column("sla_achieved_rate_p2", "float", "sla_met_p2 / (sla_met_p2 + sla_breached_p2)."),
        Column("work_orders_p3", "int", "Work orders of priority P3.", False),
        Column("sla_met_p3", "int", "P3 work orders resolved by due_at.", False),
        Column("sla_breached_p3", "int", "P3 work orders with sla_breached.", False),
        Column("sla_achieved_rate_p3", "float", "sla_met_p3 / (sla_met_p3 + sla_breached_p3)."),
        Column(
            "refund_orders",
            "int",
            "Orders with a feedback whose issue_type is a refund type of metrics.yaml (refund, return) or whose "
            "refund_amount > 0.",
            False,
        ),
        Column("refund_rate", "float", "Refund rate: refund_orders / orders."),
        Column(
            "refund_amount", "money", "Sum of refund_amount over feedback rows on the row's orders, in yuan.", False
        ),
        Column(
            "dispute_orders", "int", "Orders with a feedback whose issue_type is a dispute type of metrics.yaml.", False
        ),
        Column("dispute_rate", "float", "Dispute rate: dispute_orders / orders."),
        *COMPLETENESS_COLUMNS,
    ),
)


QUARANTINE = TableSpec(
    name="quarantine",
    description="Rows rejected by a row rule, with the rule, a readable reason and the raw values.",
    partition_column="landing_date",
    columns=(
        Column("landing_date", "date", "Partition: landing date of the file the row came from.", False),
        Column("source", "text", "Landing source.", False),
        Column("staging_table", "text", "Staging table the row was meant for (stg_orders, stg_jd_feedback...).", False),
        Column("source_file", "text", "Path of the landed file, relative to the landing directory.", False),
        Column("source_row", "int", "1-based data row number within source_file.", False),
        Column("column_name", "text", "Column that broke the rule, if one column did."),
        Column("rule", "text", "Rule broken (missing_id, unparseable_date, duplicate_row, ...).", False),
        Column("reason", "text", "Readable reason naming file, row, column and value.", False),
        Column("raw", "text", "The row as landed, JSON object of strings.", False),
    ),
)

QUARANTINE_FILES = TableSpec(
    name="quarantine_files",
    description=(
        "Landed files refused as a whole (undecodable, a required column missing, truncated, duplicate header "
        "names, unreadable): one row per file; none of its rows was staged, the other files were."
    ),
    partition_column="landing_date",
    primary_key=("landing_date", "source", "source_file"),
    columns=(
        Column("landing_date", "date", "Partition: the landing folder date of the file.", False),
        Column("source", "text", "Landing source.", False),
        Column("source_file", "text", "Path of the landed file, relative to the landing directory.", False),
        Column("reason", "text", "Why the file was refused, naming the file (and row and column when known).", False),
        Column("size_bytes", "int", "Size of the file when it was read, in bytes.", False),
        Column("sha256", "text", "SHA-256 (hex) of the bytes read: which version of the file was refused.", False),
    ),
)

LANDING_FILES = TableSpec(
    name="landing_files",
    description=(
        "Per landing day and source: the files seen, loaded and refused (file-level quarantine) and the rows read "
        "from the loaded ones; a day with no files has a row with zeros."
    ),
    partition_column="landing_date",
    primary_key=("landing_date", "source"),
    columns=(
        Column("landing_date", "date", "Partition: the landing folder date.", False),
        Column("source", "text", "Landing source.", False),
        Column("files_seen", "int", "Data files found in <landing>/<source>/<landing_date>/.", False),
        Column("files_loaded", "int", "Of those, files read and staged (their rows are staged or quarantined).", False),
        Column("files_refused", "int", "Of those, files refused as a whole (rows in quarantine_files).", False),
        Column("rows_read", "int", "Data rows read from the loaded files.", False),
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
        WORK_ORDER_FEEDBACK,
        QUARANTINE,
        QUARANTINE_FILES,
        LANDING_FILES,
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


# --- Service metrics: breakdowns, roll-ups and service-item scores (docs/metrics.md) --------------------------

METRIC_TRAFFIC_COLUMNS = (
    "visitors",
    "visitors_trailing_7d_mean",
    "rolling_visitor_rate",
    "sessions",
    "sessions_with_submission",
    "submission_rate",
)
# The order, ticket, work-order, SLA, refund and dispute measures: every metrics_daily column but the date and traffic.
SERVICE_MEASURES = tuple(
    c
    for c in METRICS_DAILY.columns
    if c.name != "business_date" and c.name not in METRIC_TRAFFIC_COLUMNS and c not in COMPLETENESS_COLUMNS
)
WORK_ORDER_MEASURES = tuple(
    METRICS_DAILY.column(n)
    for n in (
        "work_orders",
        "resolved_work_orders",
        "resolution_hours_sum",
        "resolution_hours_mean",
        "resolution_hours_median",
        "resolution_hours_p90",
        "one_touch_work_orders",
        "one_touch_rate",
        "sla_met",
        "sla_breached",
        "sla_pending",
        "sla_achieved_rate",
    )
)
FOLLOWUP_COLUMNS = (
    Column(
        "followup_ratings",
        "int",
        "Work orders with a follow-up rating: the latest rated feedback on the same order created after the work "
        "order opened.",
        False,
    ),
    Column("satisfied_followups", "int", "Follow-up ratings at or above csat_min_rating (4).", False),
    Column("followup_rating_sum", "int", "Sum of the follow-up ratings (1-5).", False),
    Column(
        "followup_rating_sq_sum", "int", "Sum of the squared follow-up ratings (for the standard deviation).", False
    ),
)
_CHANNEL = Column("channel", "text", "Sales channel: own site (web, app, mini_program, ...) or marketplace.", False)
_CAUSE = Column("cause", "text", "Located cause (payment, not_delivered, cumbersome_return, quality, other).", False)
_ACTION = Column(
    "service_action", "text", "Service item: a suggested action of service_actions.yaml (e.g. 查看物流进度).", False
)
_PERIOD_COLUMNS = (
    Column(
        "period",
        "text",
        "day, rolling_7d, rolling_28d (the 7 or 28 days ending on period_end), week (Monday-Sunday) or month.",
        False,
    ),
    Column("period_start", "date", "First business date of the period.", False),
    Column(
        "period_end", "date", "Partition: last business date of the period (a week or month may be in progress).", False
    ),
    Column("days_with_data", "int", "Days of the period whose metrics were built (metrics_daily has a row).", False),
    Column("as_of_date", "date", "Last day of the period whose metrics were built.", False),
)
_ROLLUP_NOTE = (
    " Counts and sums are the daily additive columns summed over the period; rates and means are sum / sum, "
    "never averages of daily rates; medians and p90 are computed from the ticket and work-order rows of the period. "
    "Rebuilding a day rewrites every period whose window reaches it, so the rows are right in any backfill order."
)

METRICS_DAILY_BY_CHANNEL = TableSpec(
    name="metrics_daily_by_channel",
    description=(
        "The daily service measures per business date D and channel (own site and each marketplace): the "
        "metrics_daily columns of that channel's orders, without the site-traffic columns."
    ),
    partition_column="business_date",
    primary_key=("business_date", "channel"),
    columns=(METRICS_DAILY.column("business_date"), _CHANNEL, *SERVICE_MEASURES, *COMPLETENESS_COLUMNS),
)

METRICS_DAILY_BY_CAUSE = TableSpec(
    name="metrics_daily_by_cause",
    description=(
        "Problem issues and work orders per business date D and located cause: issue counts by the issue's "
        "primary cause, work-order measures by the work order's cause, and the follow-up ratings."
    ),
    partition_column="business_date",
    primary_key=("business_date", "cause"),
    columns=(
        METRICS_DAILY.column("business_date"),
        _CAUSE,
        Column("problem_issues", "int", "Problem issues (problem_orders rows) whose primary cause is this one.", False),
        Column("problem_orders", "int", "Distinct orders behind those issues.", False),
        *WORK_ORDER_MEASURES,
        Column("reopened_work_orders", "int", "Work orders with status reopened.", False),
        *FOLLOWUP_COLUMNS,
        Column("followup_score", "float", "Mean follow-up rating: followup_rating_sum / followup_ratings."),
    ),
)

_ITEM_COUNTS = (
    Column("suggested_work_orders", "int", "Work orders that list the item among their suggested actions.", False),
    Column(
        "work_orders",
        "int",
        "Work orders that used the item: the last action the helpdesk logged for the work order, else the first "
        "suggested action listed in metrics.yaml for its final resolution, else its primary suggested action.",
        False,
    ),
    Column("used_by_resolution", "int", "Of those, work orders whose item was recognised from the resolution.", False),
    Column("used_by_log", "int", "Of those, work orders whose item is the last action the helpdesk logged for it "
           "(stg_actions).", False),
    Column("resolved_work_orders", "int", "Of those, work orders with a resolved_at.", False),
    *FOLLOWUP_COLUMNS,
)

METRICS_DAILY_BY_SERVICE_ITEM = TableSpec(
    name="metrics_daily_by_service_item",
    description=(
        "Per business date D and service item (every action of service_actions.yaml): the work orders of D's "
        "orders that suggested and used it, and their follow-up ratings as additive sums."
    ),
    partition_column="business_date",
    primary_key=("business_date", "service_action"),
    columns=(METRICS_DAILY.column("business_date"), _ACTION, *_ITEM_COUNTS),
)

METRICS_ROLLUPS = TableSpec(
    name="metrics_rollups",
    description=(
        "The service measures per period (day, rolling 7 and 28 days, week, month) and channel, channel 'all' "
        "being every channel." + _ROLLUP_NOTE
    ),
    partition_column="period_end",
    primary_key=("period", "period_end", "channel"),
    columns=(
        *_PERIOD_COLUMNS,
        Column("channel", "text", "Sales channel, or 'all' for every channel together.", False),
        *SERVICE_MEASURES,
        Column("visitor_days", "int", "Channel all only: sum of the daily distinct visitors over the period."),
        Column("visitors_daily_mean", "float", "Channel all only: visitor_days / days_with_data."),
        Column(
            "rolling_visitor_rate",
            "float",
            "Channel all only, a traffic-surge signal, not a service score: visitors_daily_mean / mean daily "
            "visitors over the 7 days before period_start (days with sessions). For period day it is the daily "
            "rolling visitor rate.",
        ),
        Column("sessions", "int", "Channel all only: own-site sessions in the period."),
        Column("sessions_with_submission", "int", "Channel all only: of those, sessions that submitted the form."),
        Column("submission_rate", "float", "Channel all only: sessions_with_submission / sessions."),
        Column(
            "backlog_work_orders",
            "int",
            "Backlog at the end of as_of_date: work orders of orders placed in the backlog_lookback_days up to "
            "as_of_date, opened before and not resolved by that instant.",
            False,
        ),
        Column("backlog_overdue", "int", "Of the backlog, work orders past due_at at that instant.", False),
        Column("backlog_age_hours_mean", "float", "Mean age of the backlog: hours from opened_at to that instant."),
        Column("backlog_age_hours_median", "float", "Median age of the backlog, in hours."),
        Column("backlog_age_hours_max", "float", "Age of the oldest backlog work order, in hours."),
    ),
)

METRICS_ROLLUPS_BY_CAUSE = TableSpec(
    name="metrics_rollups_by_cause",
    description="The per-cause measures per period (day, rolling 7 and 28 days, week, month)." + _ROLLUP_NOTE,
    partition_column="period_end",
    primary_key=("period", "period_end", "cause"),
    columns=(*_PERIOD_COLUMNS, *METRICS_DAILY_BY_CAUSE.columns[1:]),
)

SERVICE_ITEM_SCORES = TableSpec(
    name="service_item_scores",
    description=(
        "A 5-point score and a grade per service item and period (day, rolling 7 and 28 days, week, month): the "
        "mean follow-up rating of the work orders that used the item, with a confidence interval, graded on the "
        "scale of metrics.yaml; items with fewer than min_ratings follow-ups get no score and no grade." + _ROLLUP_NOTE
    ),
    partition_column="period_end",
    primary_key=("period", "period_end", "service_action"),
    columns=(
        *_PERIOD_COLUMNS,
        _ACTION,
        *_ITEM_COUNTS,
        Column("score", "float", "Mean follow-up rating (1-5): followup_rating_sum / followup_ratings."),
        Column("score_stddev", "float", "Sample standard deviation of the follow-up ratings."),
        Column(
            "score_ci_low", "float", "Lower bound of the t confidence interval of the score (level in metrics.yaml)."
        ),
        Column("score_ci_high", "float", "Upper bound of that interval (clipped to 1-5)."),
        Column("followup_csat", "float", "satisfied_followups / followup_ratings."),
        Column(
            "grade", "text", "Grade of the score on the scale of metrics.yaml (A+ ... C); null when too few ratings."
        ),
        Column(
            "rating_status",
            "text",
            "graded, or too_few_ratings when followup_ratings < min_ratings (then score and grade are null).",
            False,
        ),
    ),
)

METRIC_TABLES = (
    METRICS_DAILY_BY_CHANNEL,
    METRICS_DAILY_BY_CAUSE,
    METRICS_DAILY_BY_SERVICE_ITEM,
    METRICS_ROLLUPS,
    METRICS_ROLLUPS_BY_CAUSE,
    SERVICE_ITEM_SCORES,
)
for _spec in METRIC_TABLES:
    register_table(_spec)


# --- Behaviour: the event-level source, derived sessions, signals and their measured accuracy (docs/behaviour.md)

STG_EVENTS = register_table(
    TableSpec(
        name="stg_events",
        description="Own-site behaviour events (page views, searches, payments, tracking, returns, ...), one row per "
        "landed event row.",
        partition_column="landing_date",
        primary_key=("landing_date", "source", "event_id"),
        columns=(
            Column("event_id", "text", "Event id.", False),
            Column("session_id", "text", "Session id the client gave the event."),
            Column("visitor_id", "text", "Visitor (cookie) id.", False),
            Column("user_id", "text", "Logged-in user id (the orders' user); null when anonymous."),
            Column("order_id", "text", "Order the event concerns (payment, tracking, return); null otherwise."),
            Column("occurred_at", "timestamptz", "When the event happened.", False),
            Column("business_date", "date", "occurred_at as a date in the business time zone.", False),
            Column("event_type", "text", "page_view, search, click, add_to_cart, checkout_start, payment_attempt, "
                   "payment_result, order_track_view, address_change, return_start, return_step, return_submit, "
                   "contact_service or form_submit.", False),
            Column("page", "text", "Page or screen (return steps: return_step_<n>)."),
            Column("search_query", "text", "Search text, for search events."),
            Column("result", "text", "payment_result: success or failure; search: the result count as text."),
            Column("result_count", "int", "Search result count (0 = a zero-result search); null for other events."),
            Column("reason_code", "text", "Failure or reason code (payment failures: insufficient_funds, ...)."),
            *_lineage(),
        ),
    )
)

EVENT_SESSIONS = register_table(
    TableSpec(
        name="event_sessions",
        description="Sessions derived from events: a visitor's events with no gap over 30 minutes form one session "
        "(docs/behaviour.md); the same measures as stg_behaviour, partitioned by the session's start date.",
        partition_column="business_date",
        primary_key=("session_id",),
        columns=(
            Column("session_id", "text", "Derived id: visitor_id, '@', start time in UTC (YYYYMMDDTHHMMSS).", False),
            Column("visitor_id", "text", "Visitor id.", False),
            Column("started_at", "timestamptz", "First event of the session.", False),
            Column("ended_at", "timestamptz", "Last event of the session.", False),
            Column("business_date", "date", "Partition: started_at as a date in the business time zone.", False),
            Column("pages", "int", "page_view events in the session.", False),
            Column("events", "int", "Events in the session.", False),
            Column("submitted_after_sales_form", "bool", "Whether the session has a form_submit event.", False),
        ),
    )
)

BEHAVIOUR_SIGNALS = register_table(
    TableSpec(
        name="behaviour_signals",
        description="Problems located from what customers do: one row per signal day, signal rule and subject (the "
        "order, else the visitor) whose events met a rule of behaviour_signals.yaml, with its evidence.",
        partition_column="signal_date",
        primary_key=("signal_date", "rule", "subject_id"),
        columns=(
            Column("signal_date", "date", "Partition: detected_at as a date in the business time zone.", False),
            Column("rule", "text", "Signal rule name (behaviour_signals.yaml).", False),
            Column("cause", "text", "Cause the rule points to (payment, not_delivered, cumbersome_return).", False),
            Column("suggested_action", "text", "Service action the rule suggests (e.g. 更换支付方式).", False),
            Column("subject_id", "text", "order_id when known, else 'visitor:' and the visitor id.", False),
            Column("order_id", "text", "Order the signal is about: the events' order, else the user's latest order."),
            Column("order_attributed", "bool", "True when order_id came from the user's latest order, not the "
                   "events.", False),
            Column("visitor_id", "text", "Visitor of the last evidence event.", False),
            Column("user_id", "text", "User of the evidence events, when logged in."),
            Column("detected_at", "timestamptz", "When the rule became true (the triggering event, or the end of "
                   "the waiting time).", False),
            Column("first_event_at", "timestamptz", "First evidence event.", False),
            Column("last_event_at", "timestamptz", "Last evidence event.", False),
            Column("event_count", "int", "Evidence events.", False),
            Column("event_ids", "text", "Evidence event ids, comma-separated, oldest first.", False),
            Column("order_date", "date", "The order's business date (the partition of its work order), if known."),
            Column("channel", "text", "The order's sales channel, if known."),
        ),
    )
)

SIGNAL_ACCURACY = register_table(
    TableSpec(
        name="signal_accuracy",
        description="Each signal rule measured against complaints (own feedback rated below 3, or any ticket that "
        "is not a review) per day D: precision of the signals detected on D (a complaint on the order within 7 "
        "days after), recall over the complaints of the rule's cause created on D (a signal on the order within "
        "the 7 days before) and the lead time; rule 'all' counts each subject flagged by any rule once a day "
        "(docs/metrics.md).",
        partition_column="business_date",
        primary_key=("business_date", "rule"),
        columns=(
            Column("business_date", "date", "Partition: the day D.", False),
            Column("rule", "text", "Signal rule, or 'all' for any rule.", False),
            Column("cause", "text", "Cause of the rule ('all' for any rule).", False),
            Column("signals", "int", "Signals detected on D.", False),
            Column("signals_with_order", "int", "Of those, signals with an order_id (only they can be confirmed).",
                   False),
            Column("confirmed_signals", "int", "Of those, signals followed by a complaint on the order within 7 "
                   "days after detected_at.", False),
            Column("precision", "float", "confirmed_signals / signals."),
            Column("complaints", "int", "Complaints created on D located to the rule's cause (any covered cause "
                   "for 'all').", False),
            Column("anticipated_complaints", "int", "Of those, complaints whose order had a signal of the rule "
                   "detected in the 7 days before the complaint.", False),
            Column("recall", "float", "anticipated_complaints / complaints."),
            Column("lead_hours_mean", "float", "Mean hours from the earliest such signal to the complaint."),
            Column("lead_hours_median", "float", "Median of those hours."),
            Column("window_closed", "bool", "True when D + 7 days has passed in the data (complaints landed after "
                   "D + 7): precision is final; else it may still rise.", False),
        ),
    )
)

BEHAVIOUR_FUNNELS = register_table(
    TableSpec(
        name="behaviour_funnels",
        description="Own-site funnels and search analytics per business day D of the events: checkout to payment "
        "success, payment failures and their reasons, tracking after the promised date, return completion, "
        "contact rate, searches, zero-result searches and the top terms (docs/metrics.md).",
        partition_column="business_date",
        primary_key=("business_date",),
        columns=(
            Column("business_date", "date", "Partition: the day D the events happened.", False),
            Column("checkout_orders", "int", "Orders with a checkout_start on D.", False),
            Column("paid_checkout_orders", "int", "Of those, orders with a successful payment_result within 24 h "
                   "of the first checkout_start.", False),
            Column("checkout_payment_rate", "float", "paid_checkout_orders / checkout_orders."),
            Column("payment_results", "int", "payment_result events on D.", False),
            Column("payment_failures", "int", "Of those, result failure.", False),
            Column("payment_failure_rate", "float", "payment_failures / payment_results."),
            Column("payment_failure_reasons", "text", "Failure reason codes with counts, most frequent first."),
            Column("tracked_orders", "int", "Orders with an order_track_view on D.", False),
            Column("tracked_late_orders", "int", "Of those, orders viewed after their promised delivery time "
                   "(created_at + promised_delivery_days).", False),
            Column("tracked_late_rate", "float", "tracked_late_orders / tracked_orders."),
            Column("return_starts", "int", "return_start events on D.", False),
            Column("returns_submitted", "int", "Of those, followed by a return_submit of the same subject within "
                   "24 h.", False),
            Column("return_completion_rate", "float", "returns_submitted / return_starts."),
            Column("visitors", "int", "Distinct visitors with an event on D.", False),
            Column("contacting_visitors", "int", "Of those, visitors with a contact_service or form_submit.", False),
            Column("contact_rate", "float", "contacting_visitors / visitors."),
            Column("searches", "int", "search events on D.", False),
            Column("after_sales_searches", "int", "Of those, searches the cause keyword table locates (jieba).",
                   False),
            Column("zero_result_searches", "int", "Searches with result count 0.", False),
            Column("zero_result_rate", "float", "zero_result_searches / searches."),
            Column("top_after_sales_terms", "text", "The 10 most frequent after-sales queries with counts."),
            Column("top_zero_result_terms", "text", "The 10 most frequent zero-result queries with counts."),
        ),
    )
)


# --- The closed loop: the helpdesk action log, each action's measured effect and the ranking (docs/behaviour.md)

STG_ACTIONS = register_table(
    TableSpec(
        name="stg_actions",
        description="The helpdesk action log: one row per service action an agent took on a work order, mapped by "
        "helpdesk_actions.yaml, with the work order's order and cause resolved.",
        partition_column="landing_date",
        primary_key=("landing_date", "source", "action_id"),
        columns=(
            Column("action_id", "text", "The helpdesk's id of the logged action (audit or activity id).", False),
            Column("work_order_id", "text", "Work order the action was taken on (named, or that of the order and the "
                   "action's cause).", False),
            Column("order_id", "text", "Order of the work order.", False),
            Column("cause", "text", "Cause of the work order.", False),
            Column("action", "text", "Service action taken, canonical (a service item of service_actions.yaml).",
                   False),
            Column("action_raw", "text", "The action exactly as the helpdesk wrote it.", False),
            Column("agent", "text", "Agent who took it."),
            Column("acted_at", "timestamptz", "When the action was taken.", False),
            Column("business_date", "date", "acted_at as a date in the business time zone.", False),
            Column("outcome", "text", "Outcome the agent logged: resolved, pending, escalated or failed; null if "
                   "none."),
            Column("outcome_raw", "text", "The outcome exactly as the helpdesk wrote it."),
            *_lineage(),
        ),
    )
)

ACTION_EFFECTS = register_table(
    TableSpec(
        name="action_effects",
        description="One row per service action taken (stg_actions), with what the customer did in the 7 days after "
        "it (came back, tracked again, paid, completed the return, contacted again, rated) and whether it resolved "
        "the problem (docs/metrics.md).",
        partition_column="business_date",
        primary_key=("business_date", "action_id"),
        columns=(
            Column("business_date", "date", "Partition: the action's day (acted_at in the business time zone).",
                   False),
            Column("action_id", "text", "Logged action id.", False),
            Column("work_order_id", "text", "Work order.", False),
            Column("order_id", "text", "Order of the work order.", False),
            Column("cause", "text", "Cause of the work order.", False),
            Column("action", "text", "Service action taken.", False),
            Column("agent", "text", "Agent."),
            Column("acted_at", "timestamptz", "When the action was taken.", False),
            Column("logged_outcome", "text", "Outcome the agent logged (not used by the measures)."),
            Column("problem_found_at", "timestamptz", "When the work order's problem was found: its first complaint "
                   "or behaviour signal (problem_orders.found_at, behaviour_signals.detected_at); null if unknown."),
            Column("came_back", "bool", "An event on the order, or by its user, in the window.", False),
            Column("tracked_again", "bool", "An order_track_view of the order in the window.", False),
            Column("paid", "bool", "A successful payment_result on the order in the window.", False),
            Column("completed_return", "bool", "A return_submit on the order in the window.", False),
            Column("recontacted", "bool", "A complaint on the order (rated below 3, or a ticket that is not a review), "
                   "or a contact_service / form_submit event on the order or by its user, in the window.", False),
            Column("followed_by_action", "bool", "Another logged action on the same work order in the window.", False),
            Column("followup_rating", "int", "Rating of the first rated feedback on the order in the window."),
            Column("window_closed", "bool", "True when acted_at + 7 days lies within the data seen (events and "
                   "feedback landed through that day): the action is measured.", False),
            Column("resolved", "bool", "Measured and neither recontacted, followed by another action nor rated below 3;"
                   " null while the window is open."),
            Column("resolution_hours", "float", "For resolved actions: hours from problem_found_at (else the "
                   "action) to the action."),
        ),
    )
)

ACTION_EFFECTIVENESS = register_table(
    TableSpec(
        name="action_effectiveness",
        description="Per action day D, cause and service action: the actions taken and their measured effect as "
        "additive counts, with the rates derived from them (docs/metrics.md).",
        partition_column="business_date",
        primary_key=("business_date", "cause", "action"),
        columns=(
            Column("business_date", "date", "Partition: the actions' day D.", False),
            Column("cause", "text", "Cause of the work orders.", False),
            Column("action", "text", "Service action taken.", False),
            Column("actions", "int", "Actions taken on D.", False),
            Column("measured_actions", "int", "Of those, actions whose 7-day window has closed.", False),
            Column("resolved_actions", "int", "Of those, actions that resolved the problem.", False),
            Column("recontacted_actions", "int", "Of the measured, actions the customer re-contacted after.", False),
            Column("came_back_actions", "int", "Of the measured, actions after which the customer came back.", False),
            Column("rated_actions", "int", "Of the measured, actions followed by a rating.", False),
            Column("followup_rating_sum", "int", "Sum of those ratings.", False),
            Column("resolution_hours_sum", "float", "Sum of resolution_hours over the resolved actions.", False),
            Column("resolution_rate", "float", "resolved_actions / measured_actions."),
            Column("recontact_rate", "float", "recontacted_actions / measured_actions."),
            Column("followup_score", "float", "followup_rating_sum / rated_actions."),
            Column("resolution_hours_mean", "float", "resolution_hours_sum / resolved_actions."),
        ),
    )
)

ACTION_RANKING = register_table(
    TableSpec(
        name="action_ranking",
        description="Per day D and cause, the service actions ranked by measured effectiveness as of D: the Wilson "
        "lower bound of the resolution rate over the actions measured before D; an action keeps its place of "
        "service_actions.yaml until it has min_evidence measured actions (docs/behaviour.md).",
        partition_column="business_date",
        primary_key=("business_date", "cause", "action"),
        columns=(
            Column("business_date", "date", "Partition: the day D the ranking holds for (work orders of D use it).",
                   False),
            Column("cause", "text", "Cause.", False),
            Column("action", "text", "Service action.", False),
            Column("prior_rank", "int", "Place in service_actions.yaml (actions taken but not listed follow, by "
                   "name).", False),
            Column("listed", "bool", "True for an action of service_actions.yaml for the cause.", False),
            Column("measured_actions", "int", "Actions measured in the lookback: taken in the 28 days before D, "
                   "window closed by D.", False),
            Column("resolved_actions", "int", "Of those, resolved.", False),
            Column("resolution_rate", "float", "resolved_actions / measured_actions."),
            Column("wilson_low", "float", "Wilson lower bound of the resolution rate at the configured confidence."),
            Column("has_evidence", "bool", "measured_actions >= min_evidence.", False),
            Column("rank", "int", "Rank of the action for the cause (1 = suggested first).", False),
        ),
    )
)
