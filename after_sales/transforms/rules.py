"""The rule tables (cause location, service actions, priority and SLA), loaded from YAML."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


@dataclass(frozen=True)
class CauseRule:
    """One cause: the ticket types and keywords that locate an issue to it."""

    cause: str
    issue_types: tuple[str, ...]
    keywords: tuple[str, ...]

    @property
    def pattern(self) -> str:
        """Regex matching any keyword, case-insensitively."""
        return "|".join(re.escape(k.lower()) for k in self.keywords) or r"(?!)"


@dataclass(frozen=True)
class CauseRules:
    """Ordered cause rules with the fallback cause and the complaint ticket types."""

    causes: tuple[CauseRule, ...]
    fallback: str
    complaint_issue_types: tuple[str, ...]


@dataclass(frozen=True)
class ServiceRules:
    """Actions per cause, priority thresholds and SLA hours."""

    actions: dict[str, tuple[str, ...]]
    p1_max_rating: int
    p1_causes: tuple[str, ...]
    p2_max_rating: int
    p2_issue_types: tuple[str, ...]
    sla_hours: dict[str, int]


@lru_cache(maxsize=8)
def load_cause_rules(path: Path = CONFIG_DIR / "cause_rules.yaml") -> CauseRules:
    """Read the cause rule table."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    causes = tuple(
        CauseRule(
            cause=str(c["cause"]),
            issue_types=tuple(str(t).lower() for t in c.get("issue_types", [])),
            keywords=tuple(str(k) for k in c.get("keywords", [])),
        )
        for c in data["causes"]
    )
    return CauseRules(
        causes=causes,
        fallback=str(data.get("fallback", "other")),
        complaint_issue_types=tuple(str(t).lower() for t in data.get("complaint_issue_types", [])),
    )


@lru_cache(maxsize=8)
def load_service_rules(path: Path = CONFIG_DIR / "service_actions.yaml") -> ServiceRules:
    """Read the service action, priority and SLA table."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    prio = data["priority"]
    return ServiceRules(
        actions={str(k): tuple(str(a) for a in v) for k, v in data["actions"].items()},
        p1_max_rating=int(prio["p1_max_rating"]),
        p1_causes=tuple(prio.get("p1_causes", [])),
        p2_max_rating=int(prio["p2_max_rating"]),
        p2_issue_types=tuple(prio.get("p2_issue_types", [])),
        sla_hours={str(k): int(v) for k, v in data["sla_hours"].items()},
    )
