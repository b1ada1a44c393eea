-- grain: one row per event of pick (a view over latest: the event types or subjects the caller needs)
-- inputs: pick, orders_latest (prepare.sql)
-- window: an event without order_id by a logged-in user is attributed to the user's latest order placed in the
--         $attribution_days days before the event; subject_id is the order, else the visitor
CREATE OR REPLACE TEMP TABLE attributed AS
WITH e AS (
    SELECT * FROM pick
),
-- the user's latest order placed at or before the event (ASOF: one probe per event, not every pair of the user),
-- then among orders placed at that very time the greatest order_id
newest AS (
    SELECT u.event_id, u.user_id, o.created_at
    FROM (SELECT event_id, user_id, occurred_at FROM e WHERE order_id IS NULL AND user_id IS NOT NULL) AS u
    ASOF JOIN orders_latest AS o ON u.user_id = o.user_id AND u.occurred_at >= o.created_at
    WHERE o.created_at > u.occurred_at - to_days(CAST($attribution_days AS INTEGER))
),
latest_order AS (
    SELECT n.event_id, max(o.order_id) AS order_id
    FROM newest AS n
    JOIN orders_latest AS o ON o.user_id = n.user_id AND o.created_at = n.created_at
    GROUP BY n.event_id
)
SELECT
    e.event_id, e.visitor_id, e.user_id, e.occurred_at, e.event_type, e.page, e.search_query, e.result,
    e.result_count, e.reason_code,
    coalesce(e.order_id, l.order_id) AS order_key,
    (e.order_id IS NULL AND l.order_id IS NOT NULL) AS order_attributed,
    coalesce(e.order_id, l.order_id, 'visitor:' || e.visitor_id) AS subject_id
FROM e
LEFT JOIN latest_order AS l USING (event_id)
