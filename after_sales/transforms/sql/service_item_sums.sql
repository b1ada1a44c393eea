-- grain: one row per period (cov, rollup_coverage.sql) and service item with rows in it; inputs: by_item
-- (metrics_daily_by_service_item rows); window: the periods' days. The days' counts and sums (the score, its
-- interval and grade are computed from them in service_scores.score_items).
SELECT s.*, c.days_with_data, c.as_of_date, c.kind_pos
FROM (
    SELECT period, period_start, period_end, service_action,
        sum(COLUMNS(* EXCLUDE (period, period_start, period_end, business_date, service_action)))
    FROM (SELECT c.period, c.period_start, c.period_end, d.*
          FROM cov c JOIN by_item d ON d.business_date BETWEEN c.period_start AND c.period_end)
    GROUP BY period, period_start, period_end, service_action
) s
JOIN cov c USING (period, period_start, period_end)
ORDER BY c.period_end, c.kind_pos, s.service_action
