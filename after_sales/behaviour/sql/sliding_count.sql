-- grain: one row per signal day, rule and subject (order, else visitor)
-- inputs: q (the qualifying events of one rule: one of the kind files)
-- window: fires at the qualifying event that brings the count within the $window_us microseconds before it up to
--         $min_count (again only after it fell below); kept when detected in [$start, $end). The count just before
--         the event is taken over the same window, not from the previous event (whose window may have emptied since),
--         so the result does not depend on how far back the events handed in reach beyond the window
WITH counted AS (
    SELECT
        *,
        count(*) OVER w AS n,
        count(*) OVER before AS n_before,
        min(occurred_at) OVER w AS first_at,
        string_agg(event_id, ',' ORDER BY occurred_at, event_id) OVER w AS ids
    FROM q
    WINDOW
        w AS (
            PARTITION BY subject_id, grp ORDER BY occurred_at
            RANGE BETWEEN to_microseconds(CAST($window_us AS BIGINT)) PRECEDING AND CURRENT ROW
        ),
        before AS (
            PARTITION BY subject_id, grp ORDER BY occurred_at
            RANGE BETWEEN to_microseconds(CAST($window_us AS BIGINT)) PRECEDING AND to_microseconds(1) PRECEDING
        )
),
crossed AS (
    SELECT * FROM counted
)
SELECT
    CAST(timezone($tz, occurred_at) AS DATE) AS signal_date,
    subject_id,
    order_key AS order_id,
    order_attributed,
    visitor_id,
    user_id,
    occurred_at AS detected_at,
    first_at AS first_event_at,
    occurred_at AS last_event_at,
    n AS event_count,
    ids AS event_ids
FROM crossed
WHERE n >= $min_count
  AND n_before < $min_count
  AND occurred_at >= $start
  AND occurred_at < $end
QUALIFY row_number() OVER (PARTITION BY signal_date, subject_id ORDER BY occurred_at, event_id) = 1
