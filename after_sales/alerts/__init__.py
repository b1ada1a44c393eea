"""Alerts: failed runs, failed blocking checks, stale marts and misplaced landing files, through pluggable notifiers.

Payload and settings: docs/operations.md. The sensors that raise them live in `after_sales.sensors`.
"""

from __future__ import annotations

from .failures import failed_check_alerts, run_failure_alerts, run_partition, run_trigger
from .freshness import due_partition, freshness_alert
from .notifiers import (
    CHECK_FAILURE,
    ENV_UI_URL,
    ENV_WEBHOOK_URL,
    FILE_REFUSED,
    FRESHNESS_BREACH,
    LANDING_PROBLEM,
    RUN_FAILURE,
    Alert,
    AlertDeliveryError,
    LogNotifier,
    MultiNotifier,
    Notifier,
    WebhookNotifier,
    notifier_from_env,
    send_all,
    ui_url,
)
from .redact import redact_url, redact_urls, safe_reason

__all__ = [
    "CHECK_FAILURE",
    "ENV_UI_URL",
    "ENV_WEBHOOK_URL",
    "FILE_REFUSED",
    "FRESHNESS_BREACH",
    "LANDING_PROBLEM",
    "RUN_FAILURE",
    "Alert",
    "AlertDeliveryError",
    "LogNotifier",
    "MultiNotifier",
    "Notifier",
    "WebhookNotifier",
    "due_partition",
    "failed_check_alerts",
    "freshness_alert",
    "notifier_from_env",
    "redact_url",
    "redact_urls",
    "run_failure_alerts",
    "run_partition",
    "run_trigger",
    "safe_reason",
    "send_all",
    "ui_url",
]
