"""The suite's rules evaluated as one DuckDB query over the Arrow rows: what GX finds, without its fixed cost.

GX builds a metric graph per expectation (about 15 ms each, whatever the row count), so on the tables the
pipeline derives itself it cost more than computing them. The inputs (staging) keep GX but for their key's
uniqueness (checks/quality.py); the derived tables run the same rules here. tests/test_sql_rules.py proves both
give the same outcomes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from after_sales.checks.gx_runner import Outcome, Rule, value_text
from after_sales.transforms.sql_models import cursor

SAMPLE = 5
COLUMN_SET = "expect_table_columns_to_match_set"


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _param(value: object) -> object:
    """A bound as DuckDB compares it: Timestamps as datetimes (dates compare at midnight UTC)."""
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def _not_null(kw: dict[str, Any], params: list[object]) -> tuple[str, str]:
    c = _quote(kw["column"])
    return f"{c} IS NULL", c


def _between(kw: dict[str, Any], params: list[object]) -> tuple[str, str]:
    c = _quote(kw["column"])
    parts = []
    for bound, op in ((kw.get("min_value"), "<"), (kw.get("max_value"), ">")):
        if bound is not None:
            params.append(_param(bound))
            parts.append(f"{c} {op} ${len(params)}")
    return f"{c} IS NOT NULL AND ({' OR '.join(parts) or 'false'})", c


def _pair(kw: dict[str, Any], params: list[object]) -> tuple[str, str]:
    a, b = _quote(kw["column_A"]), _quote(kw["column_B"])
    op = ">=" if kw.get("or_equal") else ">"
    # Rows with both values missing are ignored (GX's default); one missing value is unexpected.
    return f"NOT ({a} IS NULL AND {b} IS NULL) AND NOT coalesce({a} {op} {b}, false)", f"[{a}, {b}]"


UNIQUE_KINDS = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")


def _key_columns(rule: Rule) -> list[str]:
    return [rule.kwargs["column"]] if rule.kind == UNIQUE_KINDS[0] else list(rule.kwargs["column_list"])


def _repeats(con: duckdb.DuckDBPyConnection, rule: Rule) -> bool:
    """Whether any value (or tuple) of a uniqueness rule occurs twice: one aggregate, no per-row window."""
    columns = [_quote(c) for c in _key_columns(rule)]
    key = columns[0] if len(columns) == 1 else f"({', '.join(columns)})"
    present = " OR ".join(f"{c} IS NOT NULL" for c in columns)
    (found,) = con.execute(f"SELECT count(*) > count(DISTINCT {key}) FROM checked WHERE {present}").fetchone() or (0,)
    return bool(found)


def _unique(columns: list[str]) -> tuple[str, str]:
    cols = ", ".join(_quote(c) for c in columns)
    present = " OR ".join(f"{_quote(c)} IS NOT NULL" for c in columns)
    value = _quote(columns[0]) if len(columns) == 1 else f"{{{', '.join(f'{c!r}: {_quote(c)}' for c in columns)}}}"
    # Every row of a repeated value (or tuple) is unexpected; missing values are not compared.
    return f"({present}) AND count(*) OVER (PARTITION BY {cols}) > 1", value


_ROW_RULES: dict[str, Callable[[dict[str, Any], list[object]], tuple[str, str]]] = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_between": _between,
    "expect_column_pair_values_a_to_be_greater_than_b": _pair,
}


def supported(rules: list[Rule]) -> bool:
    """Whether every rule is one this evaluator knows."""
    known = {*_ROW_RULES, COLUMN_SET, *UNIQUE_KINDS}
    return all(r.kind in known for r in rules)


def _predicate(rule: Rule, params: list[object]) -> tuple[str, str]:
    if rule.kind in UNIQUE_KINDS:
        return _unique(_key_columns(rule))
    return _ROW_RULES[rule.kind](rule.kwargs, params)


def _sample_value(value: object) -> object:
    if isinstance(value, dict):  # a compound key: GX lists its values by column
        return value
    if isinstance(value, list):
        return tuple(value)
    return value


def validate_sql(rows: pa.Table, rules: list[Rule], partition_column: str | None) -> list[Outcome]:
    """Every rule over the rows in one DuckDB query; unexpected rows counted per partition and sampled."""
    by_partition = partition_column is not None and partition_column in rows.column_names
    outcomes: dict[int, Outcome] = {}
    judged: list[int] = []
    for i, rule in enumerate(rules):
        if rule.kind == COLUMN_SET:
            observed = list(rows.column_names)
            held = set(observed) == set(rule.kwargs["column_set"])
            outcomes[i] = Outcome(rule, held, None, None, [], observed=value_text(observed))
        else:
            judged.append(i)
    if judged:
        con = cursor()
        try:
            outcomes.update(_judge(con, rows, rules, judged, partition_column if by_partition else None))
        finally:
            con.close()
    return [outcomes[i] for i in range(len(rules))]


def _judge(
    con: duckdb.DuckDBPyConnection, rows: pa.Table, rules: list[Rule], judged: list[int], partition: str | None
) -> dict[int, Outcome]:
    con.register("checked", rows.append_column("_row", pa.array(np.arange(rows.num_rows, dtype=np.int64))))
    # A key without repeats passes without the per-row window count that finds which rows repeat.
    out = {i: Outcome(rules[i], True, rows.num_rows, 0, []) for i in judged
           if rules[i].kind in UNIQUE_KINDS and not _repeats(con, rules[i])}
    judged = [i for i in judged if i not in out]
    if not judged:
        return out
    params: list[object] = []
    found = {i: _predicate(rules[i], params) for i in judged}
    source, day = "checked", _quote(partition) if partition else "NULL"
    if any(rules[i].kind in UNIQUE_KINDS for i in judged):
        # A repeated key's rows are found by a window count, which a filter cannot hold: each row's verdicts go
        # in a table once. Without one, the counts and samples filter the rows themselves (nothing materialized).
        columns = [f"coalesce({pred}, false) AS bad_{i}, {value} AS value_{i}" for i, (pred, value) in found.items()]
        verdicts = f"SELECT _row, {day} AS _day, {', '.join(columns)} FROM checked"
        con.execute(f"CREATE TEMP TABLE judged AS {verdicts}", params)
        source, day, params = "judged", "_day", []
        found = {i: (f"bad_{i}", f"value_{i}") for i in judged}
    sums = ", ".join(f"count(*) FILTER (WHERE coalesce({pred}, false))" for pred, _ in found.values())
    per_day = con.execute(f"SELECT {day} AS _d, {sums} FROM {source} GROUP BY _d", params).fetchall()
    for k, i in enumerate(judged):
        counts = {row[0]: row[k + 1] for row in per_day if row[k + 1]}
        unexpected = sum(counts.values())
        sample = []
        if unexpected:
            bound: list[object] = []
            pred, value = found[i] if source == "judged" else _predicate(rules[i], bound)
            query = f"SELECT {value} FROM {source} WHERE coalesce({pred}, false) ORDER BY _row LIMIT {SAMPLE}"
            sample = [value_text(_sample_value(v)) for (v,) in con.execute(query, bound).fetchall()]
        out[i] = Outcome(rules[i], unexpected == 0, rows.num_rows, unexpected, sample)
        if partition and unexpected:
            out[i].unexpected_by_partition = {_as_date(d): n for d, n in counts.items()}
    return out


def _as_date(value: object) -> object:
    return value.date() if isinstance(value, dt.datetime) else value
