"""Turns rule outcomes into Dagster check results and data_quality_runs rows, per partition."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd
import pyarrow as pa

from after_sales.arrow_frames import SchemaMismatchError, frame_to_arrow
from after_sales.checks.gx_runner import Outcome, Rule, validate
from after_sales.checks.sql_rules import COLUMN_SET, UNIQUE_KINDS, supported, validate_sql
from after_sales.checks.suites import CHECK_DESCRIPTIONS, rules_for
from after_sales.tables import DATA_QUALITY_RUNS, TableSpec
from after_sales.windows import DateWindow

GX_CHECKS = ("schema", "keys", "values", "window")


@dataclass
class PartitionCounts:
    """One custom rule's result for one partition."""

    day: dt.date
    passed: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    rows_read: int | None = None
    rows_staged: int | None = None
    rows_quarantined: int | None = None
    duplicates_removed: int | None = None


@dataclass
class CustomCheck:
    """A rule evaluated in pandas (conservation between layers), with its per-partition results."""

    check_name: str
    rule: str
    description: str
    partitions: list[PartitionCounts]
    metadata: dict[str, object] = field(default_factory=dict)
    # A non-blocking check fails with severity ERROR (and an alert) but does not stop the write.
    blocking: bool = True

    @property
    def passed(self) -> bool:
        """Whether the rule held for every partition."""
        return all(p.passed for p in self.partitions)


@dataclass
class QualityReport:
    """Check results for Dagster, rows for data_quality_runs, and the reasons of blocking failures."""

    results: list[dg.AssetCheckResult]
    rows: pd.DataFrame
    failures: list[str]
    cast_rows: pa.Table | None = None  # the checked frame as frame_to_arrow cast it (None if it did not cast)

    @property
    def passed(self) -> bool:
        """Whether every blocking check passed."""
        return not self.failures


def check_specs(
    asset: str, custom: dict[str, str] | None = None, non_blocking: tuple[str, ...] = ()
) -> list[dg.AssetCheckSpec]:
    """The checks of an asset: the four GX checks plus its custom ones (name -> description), blocking unless named."""
    specs = {**{n: CHECK_DESCRIPTIONS[n] for n in GX_CHECKS}, **(custom or {})}
    return [
        dg.AssetCheckSpec(name=n, asset=asset, blocking=n not in non_blocking, description=d) for n, d in specs.items()
    ]


def uses_gx(spec: TableSpec) -> bool:
    """Whether a table's rows are validated by GX: the staged inputs are; derived tables run the rules in SQL."""
    return (spec.copy_of or spec.name).startswith("stg_")


def _keys_in_sql(frame: pd.DataFrame, arrow: pa.Table, rules: list[Rule], partition: str | None) -> list[Outcome]:
    """GX's outcomes, except the uniqueness rules', found by the SQL evaluator over the same rows.

    GX's uniqueness expectations cost more than the rest of a staged input's suite together (2.6 s of 4.6 s on
    3.6M sessions; DuckDB: 0.8 s), and both find the same (tests/test_sql_rules.py).
    """
    in_sql = [i for i, r in enumerate(rules) if r.kind in UNIQUE_KINDS]
    in_gx = [i for i in range(len(rules)) if i not in in_sql]
    found = dict(zip(in_sql, validate_sql(arrow, [rules[i] for i in in_sql], partition), strict=True))
    found.update(zip(in_gx, validate(frame, [rules[i] for i in in_gx], partition), strict=True))
    return [found[i] for i in range(len(rules))]


def _partition_days(frame: pd.DataFrame, spec: TableSpec, window: DateWindow | None) -> list[dt.date]:
    if window is not None:
        return window.days()
    if spec.partition_column and spec.partition_column in frame.columns and len(frame):
        return sorted(set(frame[spec.partition_column]))
    return []


def _partition_outcome(o: Outcome, day: dt.date) -> tuple[bool, int | None]:
    """Whether a rule held for one partition, and its unexpected rows there."""
    if o.success:
        return True, 0 if o.unexpected_count is not None else None
    if o.unexpected_by_partition:
        unexpected = o.unexpected_by_partition.get(day, 0)
        return unexpected == 0, unexpected
    return False, o.unexpected_count


def _md_table(rows: list[tuple[str, object, str]]) -> dg.MetadataValue:
    body = "\n".join(f"| {r} | {n} | {s} |" for r, n, s in rows)
    return dg.MetadataValue.md("| rule | unexpected | sample |\n|---|---|---|\n" + body)


def evaluate(
    asset: str,
    spec: TableSpec,
    frame: pd.DataFrame,
    window: DateWindow | None,
    run_id: str,
    custom: list[CustomCheck] | None = None,
    now: pd.Timestamp | None = None,
) -> QualityReport:
    """Validate an asset's rows before they are written."""
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    days = _partition_days(frame, spec, window)
    counts = (
        frame[spec.partition_column].value_counts().to_dict()
        if spec.partition_column and spec.partition_column in frame.columns
        else {}
    )
    outcomes: list[Outcome]
    arrow = None
    try:
        arrow = frame_to_arrow(spec, frame)
        rules = rules_for(spec, window, now)
        # A frame without rows is judged in SQL even where GX validates: the outcomes are the same
        # (tests/test_sql_rules.py), and a backfill of a source with no files in most days would otherwise pay
        # GX's fixed cost (about 0.2 s a suite) for every empty chunk.
        if supported(rules) and (len(frame) == 0 or not uses_gx(spec)):
            outcomes = validate_sql(arrow, rules, spec.partition_column)
        else:
            outcomes = _keys_in_sql(frame, arrow, rules, spec.partition_column)
    except SchemaMismatchError as exc:
        rule = Rule("schema", COLUMN_SET, {"column_set": spec.column_names, "exact_match": True})
        outcomes = [Outcome(rule, False, len(frame), None, [], error=str(exc))]
    records: list[dict[str, object]] = []
    results: list[dg.AssetCheckResult] = []
    failures: list[str] = []
    for check in GX_CHECKS:
        mine = [o for o in outcomes if o.rule.check_name == check]
        failed = [o for o in mine if not o.success]
        for o in mine:
            for day in days:
                passed, unexpected = _partition_outcome(o, day)
                records.append(
                    {
                        "check_name": check,
                        "rule": o.rule.label,
                        "column_name": o.rule.column,
                        "partition_date": day,
                        "passed": passed,
                        "element_count": counts.get(day, 0),
                        "unexpected_count": unexpected,
                        "sample_values": json.dumps(o.sample, ensure_ascii=False) if o.sample and not passed else None,
                    }
                )
        for o in failed:
            detail = o.error or (
                f"{o.unexpected_count} of {o.element_count} rows unexpected, e.g. {', '.join(o.sample[:3])}"
                if o.unexpected_count is not None
                else f"observed {o.observed}"
            )
            failures.append(f"{asset} check {check}: {o.rule.label} failed: {detail}")
        results.append(
            dg.AssetCheckResult(
                asset_key=asset,
                check_name=check,
                passed=not failed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "expectations": len(mine),
                    "failed_expectations": len(failed),
                    "unexpected_rows": sum(o.unexpected_count or 0 for o in failed),
                    "rows_checked": len(frame),
                    "summary": _md_table(
                        [
                            (
                                o.rule.label,
                                o.unexpected_count if o.unexpected_count is not None else (o.error or "-"),
                                ", ".join(o.sample[:3]),
                            )
                            for o in mine
                        ]
                    ),
                },
            )
        )
    for c in custom or []:
        for p in c.partitions:
            records.append(
                {
                    "check_name": c.check_name,
                    "rule": c.rule,
                    "column_name": None,
                    "partition_date": p.day,
                    "passed": p.passed,
                    "element_count": p.element_count,
                    "unexpected_count": p.unexpected_count,
                    "rows_read": p.rows_read,
                    "rows_staged": p.rows_staged,
                    "rows_quarantined": p.rows_quarantined,
                    "duplicates_removed": p.duplicates_removed,
                    "blocking": c.blocking,
                }
            )
        bad_days = [str(p.day) for p in c.partitions if not p.passed]
        if bad_days and c.blocking:
            failures.append(f"{asset} check {c.check_name}: {c.description} fails for {', '.join(bad_days)}")
        results.append(
            dg.AssetCheckResult(
                asset_key=asset,
                check_name=c.check_name,
                passed=c.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"rule": c.rule, "partitions_failed": len(bad_days), **c.metadata},
            )
        )
    rows = pd.DataFrame.from_records(records)  # custom checks add counts the GX rows lack
    for column in DATA_QUALITY_RUNS.column_names:
        if column not in rows.columns:
            rows[column] = None
    rows["run_id"] = run_id
    rows["asset"] = asset
    rows["blocking"] = rows["blocking"].ne(False).astype(bool)  # GX rows (no value) are blocking
    rows["evaluated_at"] = now
    return QualityReport(results, rows[DATA_QUALITY_RUNS.column_names], failures, arrow)
