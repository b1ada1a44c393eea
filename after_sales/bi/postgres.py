"""The BI views on PostgreSQL: CREATE OR REPLACE in one transaction, recreated with their grants when it must."""

from __future__ import annotations

import psycopg

from after_sales.bi.comments import comment_statements
from after_sales.bi.views import VIEW_PRIVILEGES, ViewSpec, source_tables
from after_sales.resources.postgres_warehouse import PostgresWarehouse, _lock_key
from after_sales.resources.warehouse import WarehouseError


def apply_views_postgres(wh: PostgresWarehouse, views: tuple[ViewSpec, ...]) -> None:
    """Ensure the source tables, then create or replace every view and its comments, all in one transaction."""
    try:
        with wh.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(wh.schema, "bi_views")])
            wh.ensure_tables(cur, source_tables(views))
            for view in views:
                _replace_view(cur, wh, view)
    except (psycopg.Error, WarehouseError) as exc:
        raise WarehouseError(f"creating the BI views in {wh.schema} failed and was rolled back: {exc}") from exc


def _replace_view(cur: psycopg.Cursor, wh: PostgresWarehouse, view: ViewSpec) -> None:
    """CREATE OR REPLACE VIEW, or drop and recreate it with every grant it had when PostgreSQL refuses."""
    # PostgreSQL refuses to replace a view whose columns were renamed, dropped or retyped.
    target = wh.qualified(view.name)
    body = view.sql(wh.qualified, "postgresql")
    try:
        with cur.connection.transaction():  # a savepoint: the refusal must not abort the whole transaction
            cur.execute(f"CREATE OR REPLACE VIEW {target} AS {body}")
    except psycopg.errors.InvalidTableDefinition:
        grants = _grants(cur, target)
        cur.execute(f"DROP VIEW {target}")
        cur.execute(f"CREATE VIEW {target} AS {body}")
        for grantee, privilege, grantable in grants:
            option = " WITH GRANT OPTION" if grantable else ""
            cur.execute(f"GRANT {privilege} ON {target} TO {grantee}{option}")
    for statement in comment_statements(view.spec, target, "VIEW"):
        cur.execute(statement)


def _grants(cur: psycopg.Cursor, target: str) -> list[tuple[str, str, bool]]:
    """(grantee as SQL, privilege, grantable) of every grant on a relation other than its owner's own."""
    rows = cur.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, a.privilege_type, "
        "a.is_grantable FROM pg_catalog.pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
        "LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee "
        "WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
        [target],
    ).fetchall()
    return [(g, p, bool(o)) for g, p, o in rows if p in VIEW_PRIVILEGES]
