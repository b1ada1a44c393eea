"""The metric settings (after_sales/config/metrics.yaml): refund and dispute types, CSAT, SLA targets, grades."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from after_sales.measures import PRIORITIES
from after_sales.transforms.rules import CONFIG_DIR


@dataclass(frozen=True)
class Grade:
    """One step of the grade scale: the grade and the lowest score that earns it."""

    grade: str
    min_score: float


@dataclass(frozen=True)
class MetricRules:
    """Everything the metric transforms need from metrics.yaml."""

    refund_issue_types: tuple[str, ...]
    dispute_issue_types: tuple[str, ...]
    csat_min_rating: int
    sla_achievement_targets: dict[str, float]
    backlog_lookback_days: int
    min_ratings: int
    confidence: float
    actions_for_resolution: dict[str, tuple[str, ...]]
    grades: tuple[Grade, ...]
    english_names: dict[str, str]

    def grade_of(self, score: float) -> str | None:
        """The grade of a score on the scale (None below the lowest step)."""
        for g in self.grades:
            if score >= g.min_score:
                return g.grade
        return None

    def scale_text(self) -> str:
        """The grade scale as readable text, e.g. 'A+ >= 4.5, A >= 4.0, ...'."""
        return ", ".join(f"{g.grade} >= {g.min_score:g}" for g in self.grades)


@lru_cache(maxsize=8)
def load_metric_rules(path: Path = CONFIG_DIR / "metrics.yaml") -> MetricRules:
    """Read metrics.yaml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    scores = data["service_scores"]
    grades = tuple(Grade(str(g["grade"]), float(g["min_score"])) for g in scores["grades"])
    if list(grades) != sorted(grades, key=lambda g: -g.min_score):
        raise ValueError(f"{path}: service_scores.grades must be listed best first (descending min_score)")
    targets = {str(k): float(v) for k, v in (data.get("sla_achievement_targets") or {}).items()}
    unknown = set(targets) - set(PRIORITIES)
    if unknown:
        raise ValueError(f"{path}: sla_achievement_targets has unknown priorities {sorted(unknown)}")
    return MetricRules(
        refund_issue_types=tuple(str(t).lower() for t in data.get("refund_issue_types", [])),
        dispute_issue_types=tuple(str(t).lower() for t in data.get("dispute_issue_types", [])),
        csat_min_rating=int(data.get("csat_min_rating", 4)),
        sla_achievement_targets=targets,
        backlog_lookback_days=int(data.get("backlog_lookback_days", 28)),
        min_ratings=int(scores.get("min_ratings", 10)),
        confidence=float(scores.get("confidence", 0.95)),
        actions_for_resolution={
            str(k): tuple(str(a) for a in v) for k, v in (scores.get("actions_for_resolution") or {}).items()
        },
        grades=grades,
        english_names={str(k): str(v) for k, v in (scores.get("english_names") or {}).items()},
    )
