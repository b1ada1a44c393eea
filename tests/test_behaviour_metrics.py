"""metrics_daily's traffic measures from sessions derived from events, with the same definitions as the session files.

The same visits are written twice in their documented formats: as a session file (one row per session, the
`behaviour` source) and as events (one row per event, the `events` source, sessions cut at 30 minutes of
inactivity). Worked out by hand on 2026-10-01 (D1, Asia/Shanghai):
- V1 views pages at 10:00 and 10:20 (one session), then sends the after-sales form at 11:00 (40 minutes later:
  a second session, with a submission);
- V2 views a page at 12:00 (one session).
So 2 visitors, 3 sessions, 1 with a submission, submission rate 1/3. On D0 (2026-09-30) only a session file
landed: V9, one session, none submitted.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from after_sales.behaviour.signals import derive_sessions
from after_sales.transforms.metrics import build_metrics_daily
from after_sales.transforms.sessions import metric_sessions
from after_sales.transforms.staging import stage_behaviour, stage_events
from tests.support.behaviour import EVENTS_HEADER
from tests.support.landing import BEHAVIOUR_HEADER
from tests.test_metrics import D0, D1, FIRST, LAST, hand_marts
from tests.test_transforms import CTX, landed

TZ = "Asia/Shanghai"
END = LAST + dt.timedelta(days=1)
SESSION_FILE_D1 = [
    "S1,V1,2026-10-01 10:00:00,2026-10-01 10:20:00,2,false",
    "S2,V1,2026-10-01 11:00:00,2026-10-01 11:00:00,0,true",
    "S3,V2,2026-10-01 12:00:00,2026-10-01 12:00:00,1,false",
]
SESSION_FILE_D0 = ["S9,V9,2026-09-30 09:00:00,2026-09-30 09:05:00,1,false"]
EVENTS_D1 = [
    "E1,,V1,,,2026-10-01 10:00:00,page_view,home,,,",
    "E2,,V1,,,2026-10-01 10:20:00,page_view,item,,,",
    "E3,,V1,,,2026-10-01 11:00:00,form_submit,after_sales,,,",
    "E4,,V2,,,2026-10-01 12:00:00,page_view,home,,,",
]
TRAFFIC = ["visitors", "sessions", "sessions_with_submission", "submission_rate", "rolling_visitor_rate"]


def session_files(lines: dict[dt.date, list[str]]) -> pd.DataFrame:
    """Session files staged as the `behaviour` source."""
    staged = [stage_behaviour(landed("behaviour", BEHAVIOUR_HEADER, ls, d), CTX) for d, ls in lines.items()]
    assert all(s.quarantined.empty for s in staged)
    return pd.concat([s.rows for s in staged], ignore_index=True)


def event_sessions() -> pd.DataFrame:
    """The D1 events staged as the `events` source, then cut into sessions (event_sessions rows)."""
    staged = stage_events(landed("events", EVENTS_HEADER, EVENTS_D1, D1), CTX)
    assert staged.quarantined.empty
    return derive_sessions(staged.rows, FIRST, END, TZ)


@pytest.fixture(scope="module")
def marts() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    fact, problems, work_orders, _ = hand_marts()
    return fact, problems, work_orders


def traffic(marts: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], sessions: pd.DataFrame) -> pd.DataFrame:
    return build_metrics_daily(*marts, sessions, FIRST, END).set_index("business_date")[TRAFFIC]


@pytest.mark.slow
def test_events_and_session_files_give_the_same_traffic_measures(marts: tuple) -> None:
    files = session_files({D1: SESSION_FILE_D1})
    from_files = traffic(marts, metric_sessions(files, event_sessions().iloc[0:0]))
    from_events = traffic(marts, metric_sessions(files.iloc[0:0], event_sessions()))
    pd.testing.assert_frame_equal(from_files, from_events)
    d1 = from_events.loc[D1]
    assert (d1["visitors"], d1["sessions"], d1["sessions_with_submission"]) == (2, 3, 1)
    assert d1["submission_rate"] == pytest.approx(1 / 3)


def test_a_day_with_events_counts_them_and_other_days_keep_their_session_files(marts: tuple) -> None:
    # Both sources sent for D1 (counted once, from the events); only a session file for D0.
    files = session_files({D0: SESSION_FILE_D0, D1: [line.replace("S", "F", 1) for line in SESSION_FILE_D1]})
    sessions = metric_sessions(files, event_sessions())
    assert sorted(sessions.loc[sessions["business_date"] == D1, "session_id"]) == [
        "V1@20261001T020000",  # 10:00 in Shanghai is 02:00 UTC
        "V1@20261001T030000",
        "V2@20261001T040000",
    ]
    figures = traffic(marts, sessions)
    assert figures.loc[D0, ["visitors", "sessions", "sessions_with_submission"]].tolist() == [1, 1, 0]
    assert figures.loc[D1, ["visitors", "sessions", "sessions_with_submission"]].tolist() == [2, 3, 1]
    assert figures.loc[D1, "rolling_visitor_rate"] == pytest.approx(2 / 1)  # D1's 2 visitors over D0's 1


def test_a_session_landed_again_counts_once_in_its_latest_version(marts: tuple) -> None:
    # S2 re-exported on D1 + 1 with its form no longer sent and another visitor: that version counts.
    files = session_files(
        {D1: SESSION_FILE_D1, D1 + dt.timedelta(days=1): ["S2,V3,2026-10-01 11:00:00,2026-10-01 11:00:00,0,false"]}
    )
    sessions = metric_sessions(files, event_sessions().iloc[0:0])
    figures = traffic(marts, sessions)
    assert figures.loc[D1, ["visitors", "sessions", "sessions_with_submission"]].tolist() == [3, 3, 0]
    from after_sales.transforms.marts import latest_version

    pd.testing.assert_frame_equal(figures, traffic(marts, latest_version(files, "session_id")))
