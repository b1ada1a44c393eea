"""The canonical vocabularies every source is mapped onto."""

ORDER_STATUSES = frozenset(
    {"pending_payment", "paid", "shipped", "delivered", "completed", "cancelled", "refunding", "refunded", "closed"}
)
REFUND_STATUSES = frozenset({"requested", "awaiting_return", "return_received", "refused", "closed", "refunded"})
ISSUE_TYPES = frozenset({"review", "inquiry", "complaint", "return", "refund", "dispute"})
RESOLUTIONS = frozenset({"refunded", "replaced", "repaired", "compensated", "info_provided", "rejected"})

# Columns of the own landing sources, in file order (docs/data-model.md).
LANDING_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": (
        "order_id",
        "created_at",
        "user",
        "product",
        "quantity",
        "amount",
        "payment_method",
        "status",
        "channel",
    ),
    "feedback": (
        "feedback_id",
        "order_id",
        "created_at",
        "rating",
        "issue_type",
        "issue_description",
        "first_response_at",
        "resolved_at",
        "resolution",
        "reopened",
    ),
    "behaviour": ("session_id", "visitor_id", "started_at", "ended_at", "pages", "submitted_after_sales_form"),
}

# Event types of the event-level behaviour source (events); docs/behaviour.md.
EVENT_TYPES = frozenset(
    {
        "page_view",
        "search",
        "click",
        "add_to_cart",
        "checkout_start",
        "payment_attempt",
        "payment_result",
        "order_track_view",
        "address_change",
        "return_start",
        "return_step",
        "return_submit",
        "contact_service",
        "form_submit",
    }
)
PAYMENT_RESULTS = frozenset({"success", "failure"})
EVENT_COLUMNS = (
    "event_id",
    "session_id",
    "visitor_id",
    "user_id",
    "order_id",
    "occurred_at",
    "event_type",
    "page",
    "search_query",
    "result",
    "reason_code",
)
