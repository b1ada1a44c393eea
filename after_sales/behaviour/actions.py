"""The helpdesk action log: its mapping file (config/helpdesk_actions.yaml) and the staging of its rows.

A landed action-log file is a helpdesk export: its headers and action labels are mapped onto our names by the
mapping file's synonyms, then every row is typed and checked like the other own sources; a row naming a work order
or an order the warehouse does not know is quarantined (resolve_work_orders).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from after_sales.marketplaces.config import norm_key
from after_sales.tables import STG_ACTIONS
from after_sales.transforms.marts import work_order_id
from after_sales.transforms.parsing import blank, parse_timestamps
from after_sales.transforms.rules import CONFIG_DIR, load_cause_rules, load_service_rules
from after_sales.transforms.staging import (
    LandedFile,
    LandingFileError,
    SourceKind,
    StagingContext,
    StagingResult,
    _business_date,
    _check_time,
    _finish,
    _moved_to_quarantine,
    _reject_duplicates,
    _reject_unstorable_text,
    _Rejector,
    _require_columns,
    _text,
)

ACTIONS_FILE = CONFIG_DIR / "helpdesk_actions.yaml"
FIELDS = ("action_id", "work_order_id", "order_id", "action", "agent", "acted_at", "outcome")
OUTCOMES = ("resolved", "pending", "escalated", "failed")
SOURCE = "actions"


class ActionLogConfig(BaseModel):
    """The action-log mapping file: header synonyms, action and outcome labels, and the loop's settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    actions: dict[str, tuple[str, ...]]
    outcomes: dict[str, tuple[str, ...]]
    effect_window_days: int = Field(ge=1)
    ranking_lookback_days: int = Field(ge=1)
    min_evidence: int = Field(ge=1)
    confidence: float = Field(gt=0, lt=1)

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, columns: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = sorted(set(columns) - set(FIELDS))
        missing = sorted(set(FIELDS) - set(columns))
        if unknown or missing:
            raise ValueError(f"columns: unknown field(s) {unknown or '-'}, missing field(s) {missing or '-'}")
        return columns

    @model_validator(mode="after")
    def _consistent(self) -> ActionLogConfig:
        bad = sorted(set(self.required) - set(FIELDS))
        if bad:
            raise ValueError(f"required: {', '.join(bad)} not among the fields {', '.join(FIELDS)}")
        for name, table in (("columns", self.columns), ("actions", self.actions), ("outcomes", self.outcomes)):
            seen: dict[str, str] = {}
            for target, labels in table.items():
                for label in (target, *labels):
                    key = norm_key(label)
                    if seen.get(key, target) != target:
                        raise ValueError(f"{name}: label {label!r} names both {seen[key]} and {target}")
                    seen[key] = target
        items = {a for actions in load_service_rules().actions.values() for a in actions}
        unknown = sorted(set(self.actions) - items)
        if unknown:
            raise ValueError(f"actions: {', '.join(unknown)} not a service action of service_actions.yaml")
        if sorted(set(self.outcomes) - set(OUTCOMES)):
            raise ValueError(f"outcomes: only {', '.join(OUTCOMES)} are outcomes")
        return self

    def header_map(self) -> dict[str, str]:
        """Normalized header -> field."""
        return {norm_key(label): f for f, labels in self.columns.items() for label in (f, *labels)}

    def action_map(self) -> dict[str, str]:
        """Normalized action label -> canonical action."""
        return {norm_key(label): a for a, labels in self.actions.items() for label in (a, *labels)}

    def outcome_map(self) -> dict[str, str]:
        """Normalized outcome label -> outcome."""
        return {norm_key(label): o for o, labels in self.outcomes.items() for label in (o, *labels)}


@lru_cache(maxsize=8)
def load_action_log_config(path: Path = ACTIONS_FILE) -> ActionLogConfig:
    """Read and validate the action-log mapping file; a bad file names itself in the error."""
    try:
        return ActionLogConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def map_headers(landed: LandedFile, config: ActionLogConfig) -> LandedFile:
    """The file with its headers renamed to our field names; two headers naming one field refuse the file."""
    by_key = config.header_map()
    renamed: dict[str, str] = {}
    taken: dict[str, str] = {}
    for column in landed.frame.columns:
        if column == "source_row":
            continue
        field = by_key.get(norm_key(column))
        if field is None:
            continue
        if field in taken:
            raise LandingFileError(
                f"{landed.path}: columns '{taken[field]}' and '{column}' both map to {field} "
                "(helpdesk_actions.yaml); which one holds the data is ambiguous, so the file is refused"
            )
        taken[field] = column
        renamed[column] = field
    return LandedFile(landed.source, landed.landing_date, landed.path, landed.frame.rename(columns=renamed))


def _labels(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    keys = values.astype("string").fillna("").map(lambda v: norm_key(v) if v else "")
    return keys.map(mapping).astype("string")


def stage_actions(landed: LandedFile, ctx: StagingContext, config: ActionLogConfig | None = None) -> StagingResult:
    """Type one landed action-log file: headers and labels mapped by helpdesk_actions.yaml, bad rows quarantined."""
    config = config or load_action_log_config()
    landed = map_headers(landed, config)
    optional = tuple(f for f in FIELDS if f not in config.required)
    warnings = _require_columns(landed, config.required, optional)
    raw = landed.frame
    if "work_order_id" not in raw.columns and "order_id" not in raw.columns:
        raise LandingFileError(f"{landed.path}: neither a work order nor an order column in the header")
    rej = _Rejector(landed)
    _reject_unstorable_text(rej, FIELDS)
    rej.reject(blank(raw["action_id"]), "missing_id", "action_id", "action_id is empty")
    work_order = _text(_optional(raw, "work_order_id"))
    order = _text(_optional(raw, "order_id"))
    rej.reject(work_order.isna() & order.isna(), "missing_id", None, "neither work_order_id nor order_id is given")
    removed = _reject_duplicates(rej, "action_id")
    acted = parse_timestamps(raw["acted_at"], ctx.timezone)
    business = _business_date(acted)
    _check_time(rej, "acted_at", acted, ctx, business)
    action = _labels(raw["action"], config.action_map())
    rej.reject(action.isna(), "unknown_action", "action", "not a service action of helpdesk_actions.yaml:")
    outcome_raw = _text(_optional(raw, "outcome"))
    outcome = _labels(outcome_raw.fillna(""), config.outcome_map())
    rej.reject(outcome_raw.notna() & outcome.isna(), "invalid_outcome", "outcome", "not an outcome label:")
    typed = pd.DataFrame(
        {
            "action_id": _text(raw["action_id"]),
            "work_order_id": work_order,
            "order_id": order,
            "cause": pd.Series(pd.NA, index=raw.index, dtype="string"),
            "action": action,
            "action_raw": _text(raw["action"]),
            "agent": _text(_optional(raw, "agent")),
            "acted_at": acted,
            "business_date": business,
            "outcome": outcome,
            "outcome_raw": outcome_raw,
        }
    )
    return _finish(rej, STG_ACTIONS, typed, removed, warnings)


def _optional(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column] if column in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")


ACTIONS_KIND = SourceKind(SOURCE, STG_ACTIONS, "action_id", lambda landed, ctx: stage_actions(landed, ctx))


def cause_of_action() -> dict[str, str]:
    """Action -> the first cause of service_actions.yaml listing it (for rows naming an order, not a work order)."""
    found: dict[str, str] = {}
    for cause, actions in load_service_rules().actions.items():
        for a in actions:
            found.setdefault(a, cause)
    return found


def causes() -> list[str]:
    """Every cause a work order can have: the cause table's causes and its fallback."""
    rules = load_cause_rules()
    return [*(r.cause for r in rules.causes), rules.fallback]


def resolve_work_orders(result: StagingResult, orders: pd.DataFrame, searched: str) -> StagingResult:
    """Fill order_id, cause and work_order_id of each staged action from the orders landed around it.

    A work order id is the stable id of an order and a cause (marts.work_order_id), so it is known when some landed
    order and cause give it. A row naming only an order gets the cause listing its action first. Rows naming an
    unknown work order (rule unknown_work_order), an unknown order (unknown_order), or a work order of another
    order than the one named (work_order_mismatch) are quarantined.
    """
    rows = result.rows
    if rows.empty:
        return result
    known = pd.Index(orders["order_id"].dropna().astype(str).unique())
    wanted = rows["work_order_id"].dropna().astype(str)
    ids = {work_order_id(o, c): (o, c) for o in known for c in causes()} if len(wanted) else {}
    hit = [ids.get(w) if isinstance(w, str) else None for w in rows["work_order_id"].astype(object)]
    by_id_order = pd.Series([h[0] if h else pd.NA for h in hit], index=rows.index, dtype="string")
    by_id_cause = pd.Series([h[1] if h else pd.NA for h in hit], index=rows.index, dtype="string")
    named_wo = rows["work_order_id"].notna()
    named_order = rows["order_id"].notna()
    unknown_wo = named_wo & by_id_order.isna()
    mismatch = named_wo & ~unknown_wo & named_order & (by_id_order != rows["order_id"]).fillna(False)
    unknown_order = ~named_wo & ~rows["order_id"].astype(str).isin(known)
    by_action = rows["action"].map(cause_of_action()).astype("string")
    out = rows.copy()
    out["order_id"] = by_id_order.where(named_wo, rows["order_id"])
    out["cause"] = by_id_cause.where(named_wo, by_action)
    fill = ~named_wo & ~unknown_order
    out.loc[fill, "work_order_id"] = [
        work_order_id(o, c) for o, c in zip(out.loc[fill, "order_id"], out.loc[fill, "cause"], strict=True)
    ]
    where = rows["source_file"] + " row " + rows["source_row"].astype(str)
    parts = [result.quarantined] if len(result.quarantined) else []
    for mask, column, rule, message in (
        (unknown_wo, "work_order_id", "unknown_work_order", f"is not the work order of any order landed {searched}"),
        (mismatch, "order_id", "work_order_mismatch", "is not the order of the work order named in the row"),
        (unknown_order, "order_id", "unknown_order", f"no such order among orders landed {searched}"),
    ):
        if mask.any():
            bad = rows.loc[mask]
            reasons = where[mask] + f", column {column}: '" + bad[column].astype(str) + f"' {message}"
            parts.append(_moved_to_quarantine(bad, column, rule, reasons))
    bad_rows = unknown_wo | mismatch | unknown_order
    return StagingResult(
        rows=out.loc[~bad_rows, STG_ACTIONS.column_names].reset_index(drop=True),
        quarantined=pd.concat(parts, ignore_index=True) if parts else result.quarantined,
        rows_read=result.rows_read,
        duplicates_removed=result.duplicates_removed,
        warnings=result.warnings,
        rows_read_by_day=result.rows_read_by_day,
    )


__all__ = ["ACTIONS_KIND", "ActionLogConfig", "load_action_log_config", "resolve_work_orders", "stage_actions"]
