-- grain: one row per qualifying event: a $event_type with result 'failure'
-- inputs: ev (prepare.sql)
-- window: every event handed in; grp numbers the successes before the event, so a success starts a new count
SELECT subject_id, order_key, order_attributed, visitor_id, user_id, event_id, occurred_at, grp
FROM (
    SELECT
        *,
        sum(CASE WHEN result = 'success' THEN 1 ELSE 0 END)
            OVER (PARTITION BY subject_id ORDER BY occurred_at, event_id ROWS UNBOUNDED PRECEDING) AS grp
    FROM ev
    WHERE event_type = $event_type
)
WHERE result = 'failure'
