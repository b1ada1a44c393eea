-- grain: one row per signal day, rule and subject (order, else visitor)
-- inputs: ev (the rules' event types), trail (every event of the subjects of $event_type events: trail.sql)
-- window: a $event_type with no $end_event_type of the same subject within the $window_us microseconds after it;
--         detected at the end of that wait, kept when in [$start, $end) and not after $as_of (the newest event seen);
--         evidence: the subject's events from the start to the end of the wait
WITH starts AS (
    SELECT *, occurred_at + to_microseconds(CAST($window_us AS BIGINT)) AS due
    FROM ev
    WHERE event_type = $event_type
),
abandoned AS (
    SELECT s.*
    FROM starts AS s
    WHERE s.due >= $start
      AND s.due < $end
      AND s.due <= $as_of
      AND NOT EXISTS (
          SELECT 1 FROM ev AS f
          WHERE f.subject_id = s.subject_id
            AND f.event_type = $end_event_type
            AND f.occurred_at >= s.occurred_at
            AND f.occurred_at <= s.due
      )
),
evidence AS (
    SELECT
        a.event_id AS start_id,
        count(*) AS n,
        max(x.occurred_at) AS last_at,
        string_agg(x.event_id, ',' ORDER BY x.occurred_at, x.event_id) AS ids
    FROM abandoned AS a
    JOIN trail AS x ON x.subject_id = a.subject_id AND x.occurred_at >= a.occurred_at AND x.occurred_at <= a.due
    GROUP BY a.event_id
)
SELECT
    CAST(timezone($tz, a.due) AS DATE) AS signal_date,
    a.subject_id,
    a.order_key AS order_id,
    a.order_attributed,
    a.visitor_id,
    a.user_id,
    a.due AS detected_at,
    a.occurred_at AS first_event_at,
    e.last_at AS last_event_at,
    e.n AS event_count,
    e.ids AS event_ids
FROM abandoned AS a
JOIN evidence AS e ON e.start_id = a.event_id
QUALIFY row_number() OVER (PARTITION BY signal_date, a.subject_id ORDER BY a.occurred_at, a.event_id) = 1
