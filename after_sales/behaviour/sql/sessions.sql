-- grain: one row per derived session: a visitor's events with no gap longer than $gap_minutes minutes
-- inputs: events (stg_events rows; a re-landed event counts once, its latest landing)
-- window: sessions starting in [$start, $end); the events handed in reach back a day before $start so a session
--         running over midnight is cut where it began
WITH e AS (
    SELECT *
    FROM events
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY landing_date DESC, source_file DESC, source_row DESC) = 1
),
gaps AS (
    SELECT
        *,
        CASE
            WHEN lag(occurred_at) OVER w IS NULL THEN 1
            WHEN occurred_at - lag(occurred_at) OVER w > to_minutes(CAST($gap_minutes AS BIGINT)) THEN 1
            ELSE 0
        END AS starts_session
    FROM e
    WINDOW w AS (PARTITION BY visitor_id ORDER BY occurred_at, event_id)
),
numbered AS (
    SELECT
        *,
        sum(starts_session) OVER (PARTITION BY visitor_id ORDER BY occurred_at, event_id ROWS UNBOUNDED PRECEDING)
            AS session_no
    FROM gaps
),
sessions AS (
    SELECT
        visitor_id,
        session_no,
        min(occurred_at) AS started_at,
        max(occurred_at) AS ended_at,
        count(*) FILTER (WHERE event_type = 'page_view') AS pages,
        count(*) AS events,
        bool_or(event_type = 'form_submit') AS submitted_after_sales_form
    FROM numbered
    GROUP BY ALL
)
SELECT
    visitor_id || '@' || strftime(started_at, '%Y%m%dT%H%M%S') AS session_id,
    visitor_id,
    started_at,
    ended_at,
    CAST(timezone($tz, started_at) AS DATE) AS business_date,
    pages,
    events,
    submitted_after_sales_form
FROM sessions
WHERE started_at >= $start
  AND started_at < $end
ORDER BY started_at, visitor_id
