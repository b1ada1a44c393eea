"""The canonical vocabularies every source is mapped onto."""

ORDER_STATUSES = frozenset(
    {"pending_payment", "paid", "shipped", "delivered", "completed", "cancelled", "refunding", "refunded", "closed"}
)
REFUND_STATUSES = frozenset({"requested", "awaiting_return", "return_received", "refused", "closed", "refunded"})
ISSUE_TYPES = frozenset({"review", "inquiry", "complaint", "return", "refund", "dispute"})
RESOLUTIONS = frozenset({"refunded", "replaced", "repaired", "compensated", "info_provided", "rejected"})
