-- grain: one row per qualifying event: a $event_type whose step (the number ending page) is below the step before
-- inputs: ev (prepare.sql)
-- window: every event handed in
SELECT subject_id, order_key, order_attributed, visitor_id, user_id, event_id, occurred_at, 0 AS grp
FROM (
    SELECT *, lag(step) OVER (PARTITION BY subject_id ORDER BY occurred_at, event_id) AS previous_step
    FROM (
        SELECT *, TRY_CAST(regexp_extract(page, '(\d+)$', 1) AS INTEGER) AS step
        FROM ev
        WHERE event_type = $event_type
    )
)
WHERE step < previous_step
