"""The local PostgreSQL server of the tests (127.0.0.1:5432, user postgres): fresh databases, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from after_sales.resources.warehouse import quote_ident

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
SKIP_PG_ENV = "AFTER_SALES_SKIP_POSTGRES"


def admin_connection() -> psycopg.Connection:
    """A superuser autocommit connection to the maintenance database, or a clear failure (skip with the env var)."""
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get(SKIP_PG_ENV) == "1":
            pytest.skip(f"PostgreSQL not reachable and {SKIP_PG_ENV}=1: {exc}")
        pytest.fail(
            f"PostgreSQL is not reachable at 127.0.0.1:5432 as user postgres ({exc}). Start the server, or "
            f"set {SKIP_PG_ENV}=1 to skip the PostgreSQL tests.",
            pytrace=False,
        )


@contextmanager
def fresh_database(prefix: str = "after_sales_test") -> Iterator[str]:
    """The URL of a new, uniquely named database, dropped on exit."""
    with admin_connection() as admin:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the module, dropped at its end."""
    with fresh_database() as url:
        yield url
