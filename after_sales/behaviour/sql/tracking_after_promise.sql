-- grain: one row per qualifying event: a $event_type of an order after its promised delivery time
-- inputs: ev, orders_latest (prepare.sql)
-- window: every event handed in; promised time = the order's created_at + $promised_days days
SELECT ev.subject_id, ev.order_key, ev.order_attributed, ev.visitor_id, ev.user_id, ev.event_id, ev.occurred_at,
       0 AS grp
FROM ev
JOIN orders_latest AS o ON ev.order_key = o.order_id
WHERE ev.event_type = $event_type
  AND ev.occurred_at > o.created_at + to_days(CAST($promised_days AS INTEGER))
