-- grain: one row per period that exists; inputs: periods (period, period_start, period_end, kind_pos: every
-- period ending in the written range), built (business_date: the days with a metrics_daily row); window: the
-- periods' days. A day or rolling period exists when its last day is built ($as_of_kinds), a week or month when
-- any of its days is; days_with_data counts its built days, as_of_date is the last of them.
CREATE OR REPLACE TEMP TABLE cov AS
SELECT
    p.period, p.period_start, p.period_end, p.kind_pos,
    count(*) AS days_with_data, max(b.business_date) AS as_of_date
FROM periods p JOIN built b ON b.business_date BETWEEN p.period_start AND p.period_end
WHERE NOT list_contains(CAST($as_of_kinds AS VARCHAR[]), p.period) OR p.period_end IN (SELECT business_date FROM built)
GROUP BY ALL
