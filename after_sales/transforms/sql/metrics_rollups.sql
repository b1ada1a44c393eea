-- grain: one row per period (cov, rollup_coverage.sql) and channel with rows in it, and per period under channel
-- 'all'; inputs: daily (business_date, the additive and traffic columns of metrics_daily), by_channel
-- (business_date, channel, the additive columns of metrics_daily_by_channel), tickets (business_date, channel,
-- handling_hours, first_response_hours), work_orders (business_date, channel, opened_at, resolved_at), backlog
-- (rollup_backlog.sql); window: the periods' days (the backlog and the traffic week reach back further).
-- Counts and sums are the days' sums; percentiles (linear) come from the period's ticket and work-order rows;
-- traffic is for 'all' only: visitor_days, their mean per built day, its ratio to the mean daily visitors of the
-- days with visitors among the 7 before the period.
CREATE OR REPLACE TEMP TABLE rollup_sums AS
WITH totals AS (
    SELECT period, period_start, period_end, 'all' AS channel,
        sum(COLUMNS(* EXCLUDE (period, period_start, period_end, business_date)))
    FROM (SELECT c.period, c.period_start, c.period_end, d.*
          FROM cov c JOIN daily d ON d.business_date BETWEEN c.period_start AND c.period_end)
    GROUP BY period, period_start, period_end
), per_channel AS (
    SELECT period, period_start, period_end, channel,
        sum(COLUMNS(* EXCLUDE (period, period_start, period_end, business_date, channel)))
    FROM (SELECT c.period, c.period_start, c.period_end, d.*
          FROM cov c JOIN by_channel d ON d.business_date BETWEEN c.period_start AND c.period_end)
    GROUP BY period, period_start, period_end, channel
), sums AS (
    SELECT * FROM totals UNION ALL BY NAME SELECT * FROM per_channel
), lagged AS (
    SELECT c.period, c.period_start, c.period_end, b.* EXCLUDE (as_of_date) FROM cov c JOIN backlog b USING (as_of_date)
), members AS (
    SELECT period, period_start, period_end, channel FROM sums
    UNION SELECT period, period_start, period_end, channel FROM lagged
), ticket_q AS (
    SELECT c.period, c.period_start, c.period_end, t.channel,
        quantile_cont(t.handling_hours, 0.5) AS handling_time_hours_median,
        quantile_cont(t.first_response_hours, 0.5) AS first_response_hours_median,
        quantile_cont(t.first_response_hours, 0.9) AS first_response_hours_p90
    FROM cov c JOIN (
        SELECT * FROM tickets UNION ALL SELECT * REPLACE ('all' AS channel) FROM tickets
    ) t ON t.business_date BETWEEN c.period_start AND c.period_end
    GROUP BY ALL
), wo_q AS (
    SELECT c.period, c.period_start, c.period_end, w.channel,
        quantile_cont(hours_between(w.opened_at, w.resolved_at), 0.5) AS resolution_hours_median,
        quantile_cont(hours_between(w.opened_at, w.resolved_at), 0.9) AS resolution_hours_p90
    FROM cov c JOIN (
        SELECT * FROM work_orders UNION ALL SELECT * REPLACE ('all' AS channel) FROM work_orders
    ) w ON w.business_date BETWEEN c.period_start AND c.period_end
    GROUP BY ALL
), seen AS (
    SELECT business_date, visitors FROM daily WHERE visitors > 0
), trailing_mean AS (
    SELECT c.period, c.period_start, c.period_end, avg(s.visitors) AS visitors_trailing
    FROM cov c JOIN seen s ON s.business_date BETWEEN c.period_start - 7 AND c.period_start - 1
    GROUP BY ALL
), joined AS (
    SELECT
        m.*, c.days_with_data, c.as_of_date, c.kind_pos, m.channel = 'all' AS is_all,
        s.* EXCLUDE (period, period_start, period_end, channel, visitors, sessions, sessions_with_submission),
        s.visitors, s.sessions, s.sessions_with_submission,
        t.* EXCLUDE (period, period_start, period_end, channel),
        w.* EXCLUDE (period, period_start, period_end, channel),
        l.* EXCLUDE (period, period_start, period_end, channel),
        tm.visitors_trailing
    FROM members m
    JOIN cov c USING (period, period_start, period_end)
    LEFT JOIN sums s USING (period, period_start, period_end, channel)
    LEFT JOIN ticket_q t USING (period, period_start, period_end, channel)
    LEFT JOIN wo_q w USING (period, period_start, period_end, channel)
    LEFT JOIN lagged l USING (period, period_start, period_end, channel)
    LEFT JOIN trailing_mean tm USING (period, period_start, period_end)
)
SELECT
    * EXCLUDE (visitors, sessions, sessions_with_submission, visitors_trailing),
    CASE WHEN is_all THEN visitors END AS visitor_days,
    CASE WHEN is_all THEN visitors / days_with_data END AS visitors_daily_mean,
    CASE WHEN is_all AND visitors_trailing > 0 THEN visitors / days_with_data / visitors_trailing END
        AS rolling_visitor_rate,
    CASE WHEN is_all THEN sessions END AS sessions,
    CASE WHEN is_all THEN sessions_with_submission END AS sessions_with_submission
FROM joined
