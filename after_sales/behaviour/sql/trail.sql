-- grain: one row per subject (trail_subjects) and the events of every type that may belong to one (pick)
-- inputs: ev (attribute.sql over the rules' event types), orders_latest, latest (prepare.sql)
-- window: the subjects of the $trail_types events (the starts of abandoned_flow rules), whose evidence lists all
--         their events; pick holds a superset of those events: an event of an order subject names the order or
--         is by the order's user (attributed), an event of a visitor subject has no order_id
CREATE OR REPLACE TEMP TABLE trail_subjects AS
SELECT DISTINCT subject_id FROM ev WHERE list_contains($trail_types, event_type);

CREATE OR REPLACE TEMP VIEW pick AS
SELECT *
FROM latest AS l
WHERE l.order_id IN (SELECT subject_id FROM trail_subjects)
   OR (l.order_id IS NULL AND l.user_id IN (
           SELECT o.user_id FROM orders_latest AS o JOIN trail_subjects AS s ON s.subject_id = o.order_id))
   OR (l.order_id IS NULL AND 'visitor:' || l.visitor_id IN (SELECT subject_id FROM trail_subjects))
