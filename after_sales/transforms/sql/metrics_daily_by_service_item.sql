-- grain: one row per business date of [$start, $end) and service item: the $items of service_actions.yaml in
-- file order, then any other item a work order used, sorted (item_pos gives that order); inputs: wo_rows
-- (metric_work_orders.sql), wo_measures (work_order_measures.sql, member used_action); window: [$start, $end).
-- suggested_work_orders: work orders listing the item among their suggested actions; the rest by the used item.
CREATE OR REPLACE TEMP TABLE by_item_sums AS
WITH days AS (
    SELECT CAST(unnest(generate_series(CAST($start AS DATE), CAST($end AS DATE) - 1, INTERVAL 1 DAY)) AS DATE)
        AS business_date
), configured AS (
    SELECT unnest(CAST($items AS VARCHAR[])) AS service_action,
        generate_subscripts(CAST($items AS VARCHAR[]), 1) AS item_pos
), extra AS (
    SELECT DISTINCT used_action AS service_action FROM wo_rows
    WHERE NOT list_contains(CAST($items AS VARCHAR[]), used_action)
), items AS (
    SELECT * FROM configured
    UNION ALL
    SELECT service_action, len(CAST($items AS VARCHAR[])) + row_number() OVER (ORDER BY service_action) FROM extra
), suggested AS (
    SELECT business_date, service_action, count(DISTINCT work_order_id) AS suggested_work_orders
    FROM (SELECT business_date, work_order_id, unnest(string_split(suggested_actions, ' | ')) AS service_action
          FROM wo_rows)
    GROUP BY ALL
)
SELECT d.business_date, i.service_action, i.item_pos, s.suggested_work_orders, w.* EXCLUDE (business_date, member)
FROM days d
CROSS JOIN items i
LEFT JOIN suggested s ON s.business_date = d.business_date AND s.service_action = i.service_action
LEFT JOIN wo_measures w ON w.business_date = d.business_date AND w.member = i.service_action
