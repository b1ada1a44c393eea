-- grain: one row per feedback row (_pos) with no order of its order_id landed from $days_before days before to
-- $days_after days after the feedback's landing day; inputs: feedback (_pos, order_id, landing_date), orders
-- (order_id, landing_date); window: the feedback's landing days widened by the two bounds. Sorted by _pos.
SELECT f._pos
FROM feedback f
WHERE NOT EXISTS (
    SELECT 1 FROM orders o
    WHERE o.order_id = f.order_id
        AND o.landing_date BETWEEN f.landing_date - CAST($days_before AS INTEGER)
            AND f.landing_date + CAST($days_after AS INTEGER)
)
ORDER BY f._pos
