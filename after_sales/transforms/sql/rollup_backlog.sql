-- grain: one row per as-of day and channel with a backlog, and per as-of day under channel 'all'; inputs:
-- work_orders (business_date, channel, opened_at, due_at, resolved_at), as_of (as_of_date, instant: the end of
-- the day in the time zone); window: orders placed in the $lookback_days up to each as-of day.
-- A work order is in the backlog at the instant when it opened before it and was not resolved by it; ages are
-- whole microseconds (an integer sum does not depend on the row order), reported in hours.
CREATE OR REPLACE TEMP TABLE backlog AS
WITH w AS (
    SELECT business_date, channel, opened_at, due_at, resolved_at FROM work_orders
    UNION ALL
    SELECT business_date, 'all', opened_at, due_at, resolved_at FROM work_orders
), open_then AS (
    SELECT
        a.as_of_date, w.channel, epoch_us(a.instant) - epoch_us(w.opened_at) AS age_us,
        w.due_at < a.instant AS overdue
    FROM as_of a JOIN w
        ON w.business_date BETWEEN a.as_of_date - CAST($lookback_days - 1 AS INTEGER) AND a.as_of_date
        AND w.opened_at < a.instant AND (w.resolved_at IS NULL OR w.resolved_at >= a.instant)
)
SELECT
    as_of_date, channel,
    count(*) AS backlog_work_orders,
    count(*) FILTER (WHERE overdue) AS backlog_overdue,
    sum(age_us) / count(*) / 3600000000 AS backlog_age_hours_mean,
    quantile_cont(age_us, 0.5) / 3600000000 AS backlog_age_hours_median,
    max(age_us) / 3600000000 AS backlog_age_hours_max
FROM open_then
GROUP BY ALL
