"""The read-only BI role on PostgreSQL: USAGE on the warehouse schema and SELECT on the bi_ views, nothing else.

Run it after the bi_views asset has created the views (again after a new view is added; it is idempotent):

    AFTER_SALES_WAREHOUSE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/after_sales \\
    AFTER_SALES_BI_PASSWORD=... python scripts/create_bi_role.py [--role after_sales_bi] [--grant-to metabase]

With AFTER_SALES_BI_PASSWORD set the role can log in (the password is hashed client-side with SCRAM, so it
never reaches the server or its logs in clear); without it the role is NOLOGIN and is meant to be granted to
login users with --grant-to. The views run with their owner's privileges, so the role needs no grant on any
table: it cannot read staging, quarantine or marts directly, and cannot write anything.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from after_sales.bi.views import view_names
from after_sales.resources.warehouse import Warehouse, WarehouseError, open_warehouse, quote_ident
from after_sales.settings import ENV_TIMEZONE, ENV_WAREHOUSE_SCHEMA, ENV_WAREHOUSE_URL, env

DEFAULT_ROLE = "after_sales_bi"
ENV_BI_ROLE = "AFTER_SALES_BI_ROLE"
ENV_BI_PASSWORD = "AFTER_SALES_BI_PASSWORD"
_MAX_IDENT_BYTES = 63


def create_bi_role(
    wh: Warehouse,
    role: str = DEFAULT_ROLE,
    password: str | None = None,
    members: Sequence[str] = (),
) -> list[str]:
    """Create or update the role so it can select the BI views and nothing else; return the views granted."""
    for name in (role, *members):
        quote_ident(name)
        if not name or len(name.encode("utf-8")) > _MAX_IDENT_BYTES:
            raise WarehouseError(f"role name {name!r} is empty or longer than {_MAX_IDENT_BYTES} bytes")
    wanted = view_names()
    wh.grant_bi_role(role, password, members, wanted)
    return wanted


def main(argv: list[str] | None = None) -> int:
    """Command line: create or update the BI role in the configured PostgreSQL warehouse."""
    parser = argparse.ArgumentParser(prog="scripts/create_bi_role.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=env(ENV_WAREHOUSE_URL), help=f"warehouse URL (default ${ENV_WAREHOUSE_URL})")
    parser.add_argument("--schema", default=env(ENV_WAREHOUSE_SCHEMA), help="warehouse schema")
    parser.add_argument("--role", default=os.environ.get(ENV_BI_ROLE) or DEFAULT_ROLE, help="role to create")
    parser.add_argument("--grant-to", action="append", default=[], metavar="USER", help="login user to get the role")
    args = parser.parse_args(argv)
    wh = open_warehouse(args.url, args.schema, env(ENV_TIMEZONE))
    password = os.environ.get(ENV_BI_PASSWORD) or None
    try:
        views = create_bi_role(wh, args.role, password, args.grant_to)
    except WarehouseError as exc:
        print(exc, file=sys.stderr)
        return 1
    login = "LOGIN (password from $AFTER_SALES_BI_PASSWORD)" if password else "NOLOGIN"
    print(f"role {args.role} ({login}): USAGE on schema {args.schema}, SELECT on {', '.join(views)}")
    for member in args.grant_to:
        print(f"granted to {member}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
