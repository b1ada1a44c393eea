-- grain: one row per signal day, rule and subject (order, else visitor)
-- inputs: q (the qualifying events of one rule: one of the kind files)
-- window: fires at the qualifying event that brings the count within the $window_us microseconds before it up to
--         $min_count (again only after it fell below); kept when detected in [$start, $end). The count just before
--         the event is taken over the same window, not from the previous event (whose window may have emptied since),
--         so the result does not depend on how far back the events handed in reach beyond the window. Only the
--         counts run over every qualifying event; the evidence (ids, first time) is gathered for the firing rows
WITH counted AS (
    SELECT
        *,
        count(*) OVER w AS n,
        count(*) OVER before AS n_before
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
    SELECT *, CAST(timezone($tz, occurred_at) AS DATE) AS signal_date
    FROM counted
    WHERE n >= $min_count
      AND n_before < $min_count
      AND occurred_at >= $start
      AND occurred_at < $end
    QUALIFY row_number() OVER (PARTITION BY signal_date, subject_id ORDER BY occurred_at, event_id) = 1
),
-- the events of the firing row's window frame (RANGE: every event within the window up to and at its time)
evidence AS (
    SELECT
        c.event_id,
        min(x.occurred_at) AS first_at,
        string_agg(x.event_id, ',' ORDER BY x.occurred_at, x.event_id) AS ids
    FROM crossed AS c
    JOIN q AS x
      ON x.subject_id = c.subject_id AND x.grp = c.grp
     AND x.occurred_at >= c.occurred_at - to_microseconds(CAST($window_us AS BIGINT))
     AND x.occurred_at <= c.occurred_at
    GROUP BY c.event_id
)
SELECT
    c.signal_date,
    c.subject_id,
    c.order_key AS order_id,
    c.order_attributed,
    c.visitor_id,
    c.user_id,
    c.occurred_at AS detected_at,
    e.first_at AS first_event_at,
    c.occurred_at AS last_event_at,
    c.n AS event_count,
    e.ids AS event_ids
FROM crossed AS c
JOIN evidence AS e USING (event_id)
