-- grain: one row per period (cov, rollup_coverage.sql) and cause with rows in it; inputs: by_cause (business_date,
-- cause, the additive columns of metrics_daily_by_cause), work_orders (business_date, cause, opened_at,
-- resolved_at); window: the periods' days. Counts and sums are the days' sums; the resolution-hours percentiles
-- (linear) come from the period's work orders.
CREATE OR REPLACE TEMP TABLE cause_rollup_sums AS
WITH sums AS (
    SELECT period, period_start, period_end, cause,
        sum(COLUMNS(* EXCLUDE (period, period_start, period_end, business_date, cause)))
    FROM (SELECT c.period, c.period_start, c.period_end, d.*
          FROM cov c JOIN by_cause d ON d.business_date BETWEEN c.period_start AND c.period_end)
    GROUP BY period, period_start, period_end, cause
), wo_q AS (
    SELECT c.period, c.period_start, c.period_end, w.cause,
        quantile_cont(hours_between(w.opened_at, w.resolved_at), 0.5) AS resolution_hours_median,
        quantile_cont(hours_between(w.opened_at, w.resolved_at), 0.9) AS resolution_hours_p90
    FROM cov c JOIN work_orders w ON w.business_date BETWEEN c.period_start AND c.period_end
    GROUP BY ALL
)
SELECT s.*, c.days_with_data, c.as_of_date, c.kind_pos, w.resolution_hours_median, w.resolution_hours_p90
FROM sums s
JOIN cov c USING (period, period_start, period_end)
LEFT JOIN wo_q w USING (period, period_start, period_end, cause)
