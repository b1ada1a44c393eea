"""COMMENT ON statements built from the table registry (the same descriptions Dagster shows)."""

from __future__ import annotations

from after_sales.resources.warehouse import WarehouseError, quote_ident
from after_sales.tables import TableSpec


def sql_literal(text: str) -> str:
    """A standard SQL string literal (quotes doubled; backslashes literal, as in DuckDB and PostgreSQL)."""
    if "\x00" in text:
        raise WarehouseError(f"text contains a NUL byte: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def comment_statements(spec: TableSpec, qualified: str, kind: str = "TABLE") -> list[str]:
    """COMMENT ON the table (or view) and each of its columns, from spec's descriptions."""
    if kind not in ("TABLE", "VIEW"):
        raise ValueError(f"cannot comment on a {kind}")
    statements = [f"COMMENT ON {kind} {qualified} IS {sql_literal(spec.description)}"]
    statements += [
        f"COMMENT ON COLUMN {qualified}.{quote_ident(c.name)} IS {sql_literal(c.description)}" for c in spec.columns
    ]
    return statements
