"""What an alert may carry: file, row and column names and counts; never row values, never secrets in URLs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>]+")
# Great Expectations failures end with sample values: "... 1 of 3 rows unexpected, e.g. -1.0, 7".
SAMPLES = re.compile(r"(rows? unexpected), e\.g\. [^\n]*")
# Header names read from a file: in a file without a header line they are its first data row.
FOUND = re.compile(r"found: [^\n]*")
# A cast error's own text quotes the value that did not cast ("Float value 1e+20 was truncated").
CAST = re.compile(r"(cannot cast to [^:\n]+): [^\n]*")
# A quoted literal; an apostrophe inside a word ("can't") opens none.
QUOTED = re.compile(r"(?<![A-Za-z])'[^'\n]*'(?![A-Za-z])|\"[^\"\n]*\"")
WITHHELD = "…"


def redact_url(url: str) -> str:
    """A URL cut to scheme and host: no user, password, port, path, query or fragment (tokens live there)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return WITHHELD
    return f"{parts.scheme}://{host}" if host else f"{parts.scheme}://{WITHHELD}"


def redact_urls(text: str) -> str:
    """Every URL in the text cut to scheme and host."""
    return URL.sub(lambda m: redact_url(m.group(0)), text)


def safe_reason(text: str) -> str:
    """An alert reason without sample values, header lines read from a file, or URL paths and queries."""
    text = SAMPLES.sub(r"\1 (values are in data_quality_runs, not in alerts)", text)
    text = CAST.sub(r"\1 (the error, with the value, is in the run log)", text)
    text = FOUND.sub("found: (header line withheld: in a file without a header it is a data row)", text)
    return redact_urls(text)


def withhold_quoted(text: str) -> str:
    """An error message from a library with its quoted literals (often row values) withheld."""
    return QUOTED.sub(f"'{WITHHELD}'", text)
