"""Alerts and the notifiers that deliver them: the Dagster log always, a webhook when a URL is configured."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from after_sales.alerts.redact import redact_url, redact_urls, safe_reason

ENV_WEBHOOK_URL = "AFTER_SALES_ALERT_WEBHOOK_URL"
ENV_UI_URL = "AFTER_SALES_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3000"

RUN_FAILURE = "run_failure"
CHECK_FAILURE = "check_failure"
FRESHNESS_BREACH = "freshness_breach"
FILE_REFUSED = "file_refused"
LANDING_PROBLEM = "landing_problem"
EVENTS = (RUN_FAILURE, CHECK_FAILURE, FRESHNESS_BREACH, LANDING_PROBLEM, FILE_REFUSED)
MAX_REASON_CHARS = 4000
T = TypeVar("T")


class AlertDeliveryError(RuntimeError):
    """A notifier could not deliver an alert."""


def ui_url() -> str:
    """Base URL of the Dagster UI for links in alerts: AFTER_SALES_UI_URL, default http://127.0.0.1:3000."""
    return (os.environ.get(ENV_UI_URL, "").strip() or DEFAULT_UI_URL).rstrip("/")


@dataclass(frozen=True)
class Alert:
    """One thing an operator must look at: a failed run or step, a failed blocking check, a stale asset."""

    event: str
    asset: str | None
    partition: str | None
    reason: str
    run_id: str | None = None
    check: str | None = None
    job: str | None = None
    trigger: str | None = None
    blocking: bool = True  # a check_failure of a check that does not block (the run wrote its rows)

    def __post_init__(self) -> None:
        """Reject unknown event names."""
        if self.event not in EVENTS:
            raise ValueError(f"unknown alert event {self.event!r}; expected one of {', '.join(EVENTS)}")

    @property
    def summary(self) -> str:
        """One line for chat tools and logs."""
        what = {
            RUN_FAILURE: "run failed",
            CHECK_FAILURE: "blocking check failed" if self.blocking else "check failed",
            FRESHNESS_BREACH: "stale",
            LANDING_PROBLEM: "not loaded",
            FILE_REFUSED: "landing file refused",
        }[self.event]
        subject = ".".join(p for p in (self.asset, self.check) if p) or (
            "landing zone" if self.event == LANDING_PROBLEM else (self.job or "run")
        )
        where = f" [{self.partition}]" if self.partition else ""
        reason = safe_reason(self.reason).strip()
        first_line = reason.splitlines()[0] if reason else ""
        return f"after_sales: {what}: {subject}{where}: {first_line}"

    def payload(self, base_url: str | None = None, sent_at: dt.datetime | None = None) -> dict[str, Any]:
        """The JSON body posted to the webhook (documented in docs/operations.md)."""
        base = (base_url or ui_url()).rstrip("/")
        reason = safe_reason(self.reason)
        reason = reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"
        return {
            "event": self.event,
            "asset": self.asset,
            "check": self.check,
            "partition": self.partition,
            "reason": reason,
            "run_id": self.run_id,
            "run_url": f"{base}/runs/{self.run_id}" if self.run_id else None,
            "asset_url": f"{base}/assets/{quote(self.asset)}" if self.asset else None,
            "job": self.job,
            "trigger": self.trigger,
            "sent_at": (sent_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
            "text": self.summary,
        }


class Notifier(ABC):
    """Delivers alerts somewhere; implement `send` to plug in another channel."""

    @abstractmethod
    def send(self, alert: Alert) -> None:
        """Deliver one alert or raise AlertDeliveryError."""


class LogNotifier(Notifier):
    """Writes alerts to a logger (in a sensor: the tick's log in the Dagster UI)."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter | Any | None = None) -> None:
        self.logger = logger or logging.getLogger("after_sales.alerts")

    def send(self, alert: Alert) -> None:
        """Log the alert's summary line and payload."""
        self.logger.error(f"{alert.summary}\n{json.dumps(alert.payload(), ensure_ascii=False, indent=2)}")


class WebhookNotifier(Notifier):
    """POSTs the alert payload as JSON to a URL, retrying connection errors and 5xx answers with backoff."""

    def __init__(
        self, url: str, base_url: str | None = None, timeout: float = 10.0, attempts: int = 3, backoff: float = 0.5
    ) -> None:
        self.url = url
        self.base_url = base_url
        self.timeout = timeout
        self.attempts = max(attempts, 1)
        self.backoff = backoff

    def send(self, alert: Alert) -> None:
        """Post the payload; raise AlertDeliveryError when every attempt failed."""
        body = json.dumps(alert.payload(self.base_url), ensure_ascii=False).encode("utf-8")
        last: Exception | None = None
        for attempt in range(self.attempts):
            request = urllib.request.Request(
                self.url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "after_sales-alerts/1"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
                return
            except urllib.error.HTTPError as exc:
                last = exc
                if exc.code < 500:  # the receiver rejected the payload: repeating it will not help
                    break
            except (urllib.error.URLError, OSError) as exc:
                last = exc
            if attempt + 1 < self.attempts:
                time.sleep(self.backoff * 2**attempt)
        # The URL's path or query often holds the webhook's token: name scheme and host only.
        raise AlertDeliveryError(
            f"webhook {redact_url(self.url)} did not take the {alert.event} alert: {redact_urls(str(last))}"
        )


class MultiNotifier(Notifier):
    """Sends every alert to each notifier; raises at the end if any of them failed."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = list(notifiers)

    def send(self, alert: Alert) -> None:
        """Deliver to all, then report the failures together."""
        _deliver_each(self.notifiers, lambda notifier: notifier.send(alert))


def notifier_from_env(logger: logging.Logger | logging.LoggerAdapter | Any | None = None) -> Notifier:
    """The log notifier, plus a webhook notifier when AFTER_SALES_ALERT_WEBHOOK_URL is set (read at each call)."""
    notifiers: list[Notifier] = [LogNotifier(logger)]
    url = os.environ.get(ENV_WEBHOOK_URL, "").strip()
    if url:
        notifiers.append(WebhookNotifier(url))
    return MultiNotifier(notifiers)


def send_all(notifier: Notifier, alerts: Sequence[Alert]) -> None:
    """Send every alert, even when one fails to deliver; raise once at the end if any did."""
    _deliver_each(alerts, notifier.send)


def _deliver_each(items: Iterable[T], deliver: Callable[[T], None]) -> None:
    """Call deliver on every item even when some fail; one AlertDeliveryError at the end names every failure."""
    errors = []
    for item in items:
        try:
            deliver(item)
        except AlertDeliveryError as exc:
            errors.append(str(exc))
    if errors:
        raise AlertDeliveryError("; ".join(errors))
