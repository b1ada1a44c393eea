"""Runner of the hand-written DuckDB SQL baseline (duckdb_baseline.sql).

The rule tables are not copied into the SQL by hand: the cause keywords, complaint types, actions,
priorities and SLA hours are read from after_sales/config/*.yaml and turned into SQL literals, CASE
branches and RE2 patterns here, so the baseline applies the same rules as the pipeline.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import duckdb
import pandas as pd

from after_sales.partitions import FEEDBACK_WINDOW_DAYS
from after_sales.transforms.parsing import FALSE_WORDS, TRUE_WORDS
from after_sales.transforms.rules import CauseRules, ServiceRules, load_cause_rules, load_service_rules
from after_sales.transforms.staging import ORDER_STATUSES

SQL_FILE = Path(__file__).with_name("duckdb_baseline.sql")
_RE2_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")


def literal(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def literal_list(values: object) -> str:
    """Comma-separated SQL string literals (a never-matching NULL when empty); sets are sorted."""
    items = sorted(values) if isinstance(values, set | frozenset) else list(values)  # type: ignore[call-overload]
    return ", ".join(literal(str(v)) for v in items) or "NULL"


def keyword_pattern(keywords: tuple[str, ...]) -> str:
    """RE2 pattern matching any keyword as plain lower-case text."""
    return "|".join(_RE2_SPECIAL.sub(r"\\\1", k.lower()) for k in keywords)


def cause_fragments(rules: CauseRules) -> dict[str, str]:
    """SQL for the cause rule table (see locate_causes in after_sales/transforms/marts.py).

    Per cause, one column for a keyword match in the text (w_) and one for an issue-type match (k_).
    The primary cause is the first cause with a keyword match, else the first with a type match, else
    the fallback; matched_causes lists every cause matched either way, in rule order.
    """
    columns, by_word, by_type, items = [], [], [], []
    for r in rules.causes:
        word = f"regexp_matches(t, {literal(keyword_pattern(r.keywords))})" if r.keywords else "false"
        kind = f"k IN ({literal_list(r.issue_types)})" if r.issue_types else "false"
        columns += [f"{word} AS w_{r.cause}", f"{kind} AS k_{r.cause}"]
        by_word.append(f"WHEN w_{r.cause} THEN {literal(r.cause)}")
        by_type.append(f"WHEN k_{r.cause} THEN {literal(r.cause)}")
        items.append(f"CASE WHEN w_{r.cause} OR k_{r.cause} THEN {literal(r.cause)} END")
    return {
        "CAUSE_MATCH_COLUMNS": ", ".join(columns) or "true AS m_none",
        "CAUSE_FIRST_CASE": " ".join(by_word + by_type) or "WHEN false THEN ''",
        "CAUSE_LIST_ITEMS": ", ".join(items) or "NULL",
        "FALLBACK": rules.fallback,
        "COMPLAINT_TYPES": literal_list(rules.complaint_issue_types),
    }


def service_fragments(rules: ServiceRules) -> dict[str, str]:
    """SQL for the action, priority and SLA table."""
    other = rules.actions.get("other") or ("人工回访",)
    return {
        "FIRST_ACTION_CASE": " ".join(f"WHEN {literal(c)} THEN {literal(a[0])}" for c, a in rules.actions.items() if a)
        or "WHEN NULL THEN NULL",
        "ACTIONS_CASE": " ".join(
            f"WHEN {literal(c)} THEN {literal(' | '.join(a))}" for c, a in rules.actions.items() if a
        )
        or "WHEN NULL THEN NULL",
        "OTHER_FIRST_ACTION": other[0].replace("'", "''"),
        "OTHER_ACTIONS": " | ".join(other).replace("'", "''"),
        "P1_MAX_RATING": str(rules.p1_max_rating),
        "P2_MAX_RATING": str(rules.p2_max_rating),
        "P1_CAUSES": literal_list(rules.p1_causes),
        "P2_TYPES": literal_list(rules.p2_issue_types),
        "SLA_CASE": " ".join(f"WHEN {literal(p)} THEN {int(h)}" for p, h in rules.sla_hours.items()),
    }


def render_sql(
    landing: Path, export_dir: Path, start: dt.date, end: dt.date, tz: str, late_days: int, as_of: pd.Timestamp
) -> str:
    """The baseline script with every placeholder filled."""
    values = {
        "LANDING": str(landing.resolve()).replace("'", "''"),
        "EXPORT_DIR": str(export_dir.resolve()).replace("'", "''"),
        "START": start.isoformat(),
        "END": end.isoformat(),
        "TZ": tz,
        "LATE_DAYS": str(late_days),
        "FEEDBACK_WINDOW_DAYS": str(FEEDBACK_WINDOW_DAYS),
        "AS_OF": as_of.isoformat(),
        "ORDER_STATUSES": literal_list(ORDER_STATUSES),
        "TRUE_WORDS": literal_list(TRUE_WORDS),
        "FALSE_WORDS": literal_list(FALSE_WORDS),
        **cause_fragments(load_cause_rules()),
        **service_fragments(load_service_rules()),
    }
    sql = SQL_FILE.read_text(encoding="utf-8")
    for key, value in values.items():
        sql = sql.replace("{{" + key + "}}", value)
    left = re.findall(r"\{\{[A-Z0-9_]+\}\}", sql)
    if left:
        raise ValueError(f"unfilled placeholders in {SQL_FILE.name}: {sorted(set(left))}")
    return sql


def statements(sql: str) -> list[str]:
    """The script's statements, comment lines dropped."""
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in re.split(r";\s*\n", body) if s.strip()]


def run_baseline(
    db_path: Path,
    landing: Path,
    export_dir: Path,
    start: dt.date,
    end: dt.date,
    tz: str,
    late_days: int,
    as_of: pd.Timestamp,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> dict[str, object]:
    """Run the script into a DuckDB file; seconds in all and per statement group.

    memory_limit caps DuckDB's buffer pool (it spills to a temp folder beside the file beyond it); by
    default DuckDB takes 80% of RAM, which a 10M-order year of VARCHAR landing rows would use up.
    """
    sql = render_sql(landing, export_dir, start, end, tz, late_days, as_of)
    export_dir.mkdir(parents=True, exist_ok=True)
    phases: dict[str, float] = {}
    began = time.perf_counter()
    con = duckdb.connect(str(db_path))
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = {literal(memory_limit)}")
    for stmt in statements(sql):
        m = re.search(r"TABLE\s+([\w.]+)", stmt)
        if stmt.upper().startswith("COPY"):
            name = "export"
        else:
            name = m.group(1).removeprefix("after_sales.") if m else stmt.split()[0].lower()
        t = time.perf_counter()
        con.execute(stmt)
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - t
    con.execute("CHECKPOINT")
    con.close()
    seconds = time.perf_counter() - began
    return {"seconds": round(seconds, 3), "phases": {k: round(v, 3) for k, v in phases.items()}}
