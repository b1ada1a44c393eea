"""The behaviour signal rules (config/behaviour_signals.yaml), validated, and search queries located to causes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal

import jieba
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from after_sales.transforms.rules import CONFIG_DIR, CauseRules, load_cause_rules, load_service_rules
from after_sales.vocabulary import EVENT_TYPES

SQL_DIR = Path(__file__).resolve().parent / "sql"
SIGNALS_FILE = CONFIG_DIR / "behaviour_signals.yaml"
Kind = Literal["repeated_failure", "tracking_after_promise", "search_intent", "step_back_and_forth", "abandoned_flow"]
# Kinds that select qualifying events and share sliding_count.sql; abandoned_flow is one whole query.
COUNTED_KINDS = ("repeated_failure", "tracking_after_promise", "search_intent", "step_back_and_forth")
NEEDS_EVENT_TYPE = ("repeated_failure", "tracking_after_promise", "step_back_and_forth", "abandoned_flow")


class SignalRule(BaseModel):
    """One signal rule: which SQL kind, its parameters, and the cause and action it points to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Kind
    cause: str
    action: str
    event_type: str | None = None
    end_event_type: str | None = None
    min_count: int = Field(ge=1)
    window_hours: float = Field(gt=0)

    @model_validator(mode="after")
    def _event_types(self) -> SignalRule:
        for field in ("event_type", "end_event_type"):
            value = getattr(self, field)
            if value is not None and value not in EVENT_TYPES:
                raise ValueError(f"signal {self.name}: {field} {value!r} is not an event type")
        if self.kind in NEEDS_EVENT_TYPE and self.event_type is None:
            raise ValueError(f"signal {self.name}: kind {self.kind} needs event_type")
        if self.kind == "abandoned_flow" and self.end_event_type is None:
            raise ValueError(f"signal {self.name}: kind abandoned_flow needs end_event_type")
        return self


class SignalConfig(BaseModel):
    """The whole rule file: settings shared by the rules, and the rules in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    promised_delivery_days: int = Field(ge=0)
    attribution_days: int = Field(ge=0)
    accuracy_window_days: int = Field(ge=1)
    signals: tuple[SignalRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_names(self) -> SignalConfig:
        names = [s.name for s in self.signals]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated or "all" in names:
            raise ValueError(f"signal names must be unique and not 'all': {', '.join(repeated) or 'all'}")
        causes = {c.cause for c in load_cause_rules().causes}
        actions = load_service_rules().actions
        for s in self.signals:
            if s.cause not in causes:
                raise ValueError(f"signal {s.name}: cause {s.cause!r} is not a cause of cause_rules.yaml")
            if s.action not in actions.get(s.cause, ()):
                raise ValueError(
                    f"signal {s.name}: action {s.action!r} is not an action of {s.cause} in service_actions.yaml"
                )
        return self

    @property
    def lookback_hours(self) -> float:
        """How far before a signal day a rule looks (its longest window)."""
        return max(s.window_hours for s in self.signals)


@lru_cache(maxsize=8)
def load_signal_rules(path: Path = SIGNALS_FILE) -> SignalConfig:
    """Read and validate the signal rule file; a bad file names itself in the error."""
    try:
        return SignalConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


@lru_cache(maxsize=4)
def _tokenizer(rules: CauseRules) -> jieba.Tokenizer:
    """A jieba tokenizer that keeps every keyword of the cause table one token."""
    tok = jieba.Tokenizer()
    for r in rules.causes:
        for k in r.keywords:
            if re.search(r"[\u4e00-\u9fff]", k):
                tok.add_word(k.lower(), freq=10_000)
    return tok


def tokens(text: str, rules: CauseRules) -> list[str]:
    """The query's words: jieba tokens for Chinese, lower-case words for Latin text; spaces and punctuation dropped."""
    return [t for t in _tokenizer(rules).lcut(text.lower()) if t.strip() and re.search(r"\w", t)]


def locate_query(query: str, rules: CauseRules) -> str | None:
    """The first cause whose keyword is a run of the query's tokens (no substring guesses), else None."""
    words = tokens(query, rules)
    for r in rules.causes:
        for k in r.keywords:
            key = tokens(k, rules)
            n = len(key)
            if n and any(words[i : i + n] == key for i in range(len(words) - n + 1)):
                return r.cause
    return None


def query_causes(queries: Iterable[str], rules: CauseRules | None = None) -> pd.DataFrame:
    """search_query -> cause for every distinct query the keyword table locates (others are left out)."""
    rules = rules or load_cause_rules()
    rows = [(q, locate_query(q, rules)) for q in sorted({q for q in queries if isinstance(q, str) and q.strip()})]
    found = [(q, c) for q, c in rows if c is not None]
    return pd.DataFrame(found, columns=["search_query", "cause"]).astype("string")

