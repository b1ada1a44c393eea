"""Which failures a retry can fix: transient warehouse faults retry, every other failure fails the step at once.

The step retry policy (common.RETRY_POLICY) retries any exception except dg.Failure(allow_retries=False), so
every asset body runs under `classified_faults`: a transient fault (a DuckDB file locked past the warehouse's
own wait, a refused or lost connection, a full disk) propagates and is retried; anything else (a data fault,
a bug) becomes dg.Failure(allow_retries=False) whose first line says what failed and why.
"""

from __future__ import annotations

import errno
import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import dagster as dg

from after_sales.resources.warehouse import WarehouseLockedError

F = TypeVar("F", bound=Callable[..., Any])

TRANSIENT_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ETIMEDOUT,
        errno.EPIPE,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
    }
)
# Lower-case fragments of the drivers' messages for the same faults (DuckDB and SQLite raise no errno).
TRANSIENT_MARKERS = (
    "could not set lock",
    "conflicting lock",
    "database is locked",
    "no space left on device",
    "disk full",
    "could not extend file",
    "connection refused",
    "connection reset",
    "connection timed out",
    "server closed the connection",
    "terminating connection",
    "the database system is starting up",
    "the database system is shutting down",
    "could not connect to server",
    "connection is closed",
    "consuming input failed",
)
# SQLSTATE classes of PostgreSQL faults a retry can fix: connection (08), insufficient resources such as a full
# disk or too many connections (53), operator intervention such as a restart (57), system I/O error (58).
TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57", "58")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """exc and every exception it was raised from or during, each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_transient(exc: BaseException) -> bool:
    """True when a retry can fix the failure: a locked warehouse, a refused or lost connection, a full disk."""
    for e in _chain(exc):
        if isinstance(e, dg.Failure):
            return False
        if isinstance(e, WarehouseLockedError | ConnectionError | TimeoutError):
            return True
        if isinstance(e, OSError) and e.errno in TRANSIENT_ERRNOS:
            return True
        sqlstate = getattr(e, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES:
            return True
        if type(e).__module__.startswith("psycopg") and type(e).__name__ == "OperationalError" and sqlstate is None:
            return True  # psycopg raises a bare OperationalError when it cannot reach or loses the server
        if any(marker in str(e).lower() for marker in TRANSIENT_MARKERS):
            return True
    return False


def describe_fault(what: str, exc: BaseException) -> str:
    """The failure's description: first line `what: the error's first line` (it names file, row and column when
    the error does), then the rest of the message and a note that it was not retried."""
    message = str(exc).strip() or type(exc).__name__
    first, _, rest = message.partition("\n")
    kind = "" if isinstance(exc, ValueError) and _names_a_place(first) else f"{type(exc).__name__}: "
    lines = [f"{what}: {kind}{first}"]
    if rest.strip():
        lines.append(rest.strip())
    lines.append("Not retried: a retry cannot fix this (only a locked warehouse, a lost connection or a full disk is).")
    return "\n".join(lines)


def _names_a_place(line: str) -> bool:
    return "/" in line or " row " in line or "column" in line


@contextmanager
def data_faults_fail(what: str) -> Iterator[None]:
    """Re-raise transient faults (the step's retry policy retries them); anything else fails without retries."""
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise
        raise dg.Failure(description=describe_fault(what, exc), allow_retries=False) from exc


def step_name(context: Any) -> str:
    """The asset (or op) name and partition range of a step, for the first line of its failure."""
    try:
        keys = sorted(k.to_user_string() for k in context.selected_asset_keys)
        name = ", ".join(keys) or context.op_def.name
    except Exception:
        name = getattr(getattr(context, "op_def", None), "name", "step")
    try:
        if context.has_partition_key_range:
            r = context.partition_key_range
            return f"{name} [{r.start}]" if r.start == r.end else f"{name} [{r.start} .. {r.end}]"
    except Exception:
        pass
    return name


def classified_faults(fn: F) -> F:
    """Run an asset body under data_faults_fail, named after its step (the first argument is the context)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(context: Any, *args: Any, **kwargs: Any) -> Any:
            with data_faults_fail(step_name(context)):
                yield from fn(context, *args, **kwargs)

        return gen_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(context: Any, *args: Any, **kwargs: Any) -> Any:
        with data_faults_fail(step_name(context)):
            return fn(context, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
