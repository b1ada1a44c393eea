"""Alerts: failed runs, failed blocking checks and stale marts, sent through pluggable notifiers.

Payload and settings: docs/operations.md. The sensors that raise them live in `after_sales.sensors`.
"""

from __future__ import annotations

from .failures import run_failure_alerts, run_partition, run_trigger
from .freshness import due_partition, freshness_alert
from .notifiers import (
    CHECK_FAILURE,
    ENV_UI_URL,
    ENV_WEBHOOK_URL,
    FILE_REFUSED,
    FRESHNESS_BREACH,
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

__all__ = [
    "CHECK_FAILURE",
    "ENV_UI_URL",
    "ENV_WEBHOOK_URL",
    "FILE_REFUSED",
    "FRESHNESS_BREACH",
    "RUN_FAILURE",
    "Alert",
    "AlertDeliveryError",
    "LogNotifier",
    "MultiNotifier",
    "Notifier",
    "WebhookNotifier",
    "due_partition",
    "freshness_alert",
    "notifier_from_env",
    "run_failure_alerts",
    "run_partition",
    "run_trigger",
    "send_all",
    "ui_url",
]
