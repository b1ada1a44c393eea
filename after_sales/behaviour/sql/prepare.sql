-- grain: one row per event (ev) and one per order (orders_latest)
-- inputs: events (stg_events rows), orders (stg_orders: order_id, user_id, created_at and lineage)
-- window: the events and orders handed in; an event without order_id by a logged-in user is attributed to the
--         user's latest order placed in the $attribution_days days before the event
CREATE OR REPLACE TEMP TABLE orders_latest AS
SELECT order_id, user_id, created_at, channel
FROM orders
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY landing_date DESC, source_file DESC, source_row DESC) = 1;

CREATE OR REPLACE TEMP TABLE ev AS
WITH e AS (
    SELECT *
    FROM events
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY landing_date DESC, source_file DESC, source_row DESC) = 1
),
latest AS (
    SELECT e.event_id, o.order_id
    FROM e
    JOIN orders_latest AS o
      ON e.order_id IS NULL
     AND e.user_id = o.user_id
     AND o.created_at <= e.occurred_at
     AND o.created_at > e.occurred_at - to_days(CAST($attribution_days AS INTEGER))
    QUALIFY row_number() OVER (PARTITION BY e.event_id ORDER BY o.created_at DESC, o.order_id DESC) = 1
)
SELECT
    e.event_id, e.visitor_id, e.user_id, e.occurred_at, e.event_type, e.page, e.search_query, e.result,
    e.result_count, e.reason_code,
    coalesce(e.order_id, l.order_id) AS order_key,
    (e.order_id IS NULL AND l.order_id IS NOT NULL) AS order_attributed,
    coalesce(e.order_id, l.order_id, 'visitor:' || e.visitor_id) AS subject_id
FROM e
LEFT JOIN latest AS l USING (event_id);
