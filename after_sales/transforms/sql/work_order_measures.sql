-- grain: one row per business date and member with work orders: $member names the column the rows are split by
-- (channel, cause or used_action; anything else: one member '*' per day); inputs: wo_rows
-- (metric_work_orders.sql); window: the work orders' business dates. Additive counts and sums, and the
-- resolution-hours percentiles (linear interpolation) of the member's rows.
CREATE OR REPLACE TEMP TABLE wo_measures AS
SELECT
    business_date,
    CASE $member WHEN 'channel' THEN channel WHEN 'cause' THEN cause WHEN 'used_action' THEN used_action ELSE '*' END
        AS member,
    count(*) AS work_orders,
    count(*) FILTER (WHERE resolved) AS resolved_work_orders,
    sum(resolution_hours) AS resolution_hours_sum,
    count(*) FILTER (WHERE one_touch) AS one_touch_work_orders,
    count(*) FILTER (WHERE sla_outcome = 'met') AS sla_met,
    count(*) FILTER (WHERE sla_outcome = 'breached') AS sla_breached,
    count(*) FILTER (WHERE sla_outcome = 'pending') AS sla_pending,
    quantile_cont(resolution_hours, 0.5) AS resolution_hours_median,
    quantile_cont(resolution_hours, 0.9) AS resolution_hours_p90,
    count(*) FILTER (WHERE priority = 'P1') AS work_orders_p1,
    count(*) FILTER (WHERE priority = 'P1' AND sla_outcome = 'met') AS sla_met_p1,
    count(*) FILTER (WHERE priority = 'P1' AND sla_outcome = 'breached') AS sla_breached_p1,
    count(*) FILTER (WHERE priority = 'P2') AS work_orders_p2,
    count(*) FILTER (WHERE priority = 'P2' AND sla_outcome = 'met') AS sla_met_p2,
    count(*) FILTER (WHERE priority = 'P2' AND sla_outcome = 'breached') AS sla_breached_p2,
    count(*) FILTER (WHERE priority = 'P3') AS work_orders_p3,
    count(*) FILTER (WHERE priority = 'P3' AND sla_outcome = 'met') AS sla_met_p3,
    count(*) FILTER (WHERE priority = 'P3' AND sla_outcome = 'breached') AS sla_breached_p3,
    count(*) FILTER (WHERE status = 'reopened') AS reopened_work_orders,
    count(*) FILTER (WHERE used_by_resolution) AS used_by_resolution,
    count(*) FILTER (WHERE used_by_log) AS used_by_log,
    count(followup_rating) AS followup_ratings,
    count(*) FILTER (WHERE followup_rating >= $csat_min_rating) AS satisfied_followups,
    sum(followup_rating) AS followup_rating_sum,
    sum(followup_rating * followup_rating) AS followup_rating_sq_sum
FROM wo_rows
GROUP BY ALL
