-- grain: one row per order (orders_latest), per superseded event row (superseded), per latest event (latest)
-- inputs: events (stg_events rows, with rid: a row number unique within the input), orders (stg_orders: order_id,
--         user_id, created_at and lineage)
-- window: the events and orders handed in. The latest landing of an event counts: the rows a later landing of the
--         same event_id replaces are found among the few repeated ids only, so the full set of events is never
--         sorted, and latest (a view) can be read for a few event types without deduplicating the rest
CREATE OR REPLACE TEMP TABLE orders_latest AS
SELECT order_id, user_id, created_at, channel
FROM orders
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY landing_date DESC, source_file DESC, source_row DESC) = 1;

CREATE OR REPLACE TEMP TABLE superseded AS
SELECT e.rid
FROM events AS e
SEMI JOIN (SELECT event_id FROM events GROUP BY event_id HAVING count(*) > 1) AS d
  ON e.event_id IS NOT DISTINCT FROM d.event_id
QUALIFY row_number() OVER (PARTITION BY e.event_id ORDER BY e.landing_date DESC, e.source_file DESC, e.source_row DESC) > 1;

CREATE OR REPLACE TEMP VIEW latest AS
SELECT * EXCLUDE (rid) FROM events WHERE rid NOT IN (SELECT rid FROM superseded)
