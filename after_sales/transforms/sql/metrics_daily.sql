-- grain: one row per business date of [$start, $end); inputs: service_measures (service_measures.sql, member
-- '*'), sessions (every landed version: the one landed last counts, by landing_date, source_file, source_row,
-- _pos), refused (quarantine_files rows: landing_date, source); window: [$start, $end), sessions from 7 days before.
-- Traffic: distinct visitors, sessions and sessions with a form per day; the trailing mean is over the days of
-- D-7 .. D-1 that have sessions. files_refused: refused files of any source landed D .. D + $late_days.
CREATE OR REPLACE TEMP TABLE daily_sums AS
WITH days AS (
    SELECT CAST(unnest(generate_series(CAST($start AS DATE), CAST($end AS DATE) - 1, INTERVAL 1 DAY)) AS DATE)
        AS business_date
), relanded AS (
    SELECT session_id FROM sessions GROUP BY session_id HAVING count(*) > 1
), s AS (
    -- Only the sessions landed more than once need the latest of their versions.
    SELECT session_id, visitor_id, business_date, submitted_after_sales_form AS submitted
    FROM sessions ANTI JOIN relanded USING (session_id)
    UNION ALL
    SELECT session_id, unnest(max_by(
        {'visitor_id': visitor_id, 'business_date': business_date, 'submitted': submitted_after_sales_form},
        (landing_date, source_file, source_row, _pos)
    ))
    FROM sessions SEMI JOIN relanded USING (session_id)
    GROUP BY session_id
), traffic AS (
    SELECT
        business_date,
        count(DISTINCT visitor_id) AS visitors,
        count(session_id) AS sessions,
        count(session_id) FILTER (WHERE submitted) AS sessions_with_submission
    FROM s
    WHERE business_date IS NOT NULL
    GROUP BY ALL
), trailing_mean AS (
    SELECT d.business_date, avg(t.visitors) AS visitors_trailing_7d_mean
    FROM days d JOIN traffic t ON t.business_date BETWEEN d.business_date - 7 AND d.business_date - 1
    GROUP BY ALL
), refused_days AS (
    SELECT d.business_date, count(r.landing_date) AS files_refused
    FROM days d LEFT JOIN refused r
        ON r.landing_date BETWEEN d.business_date AND d.business_date + CAST($late_days AS INTEGER)
    GROUP BY ALL
)
SELECT
    d.business_date, m.* EXCLUDE (business_date, member),
    coalesce(t.visitors, 0) AS visitors,
    tr.visitors_trailing_7d_mean,
    CASE WHEN tr.visitors_trailing_7d_mean > 0 THEN coalesce(t.visitors, 0) / tr.visitors_trailing_7d_mean END
        AS rolling_visitor_rate,
    coalesce(t.sessions, 0) AS sessions,
    coalesce(t.sessions_with_submission, 0) AS sessions_with_submission,
    r.files_refused,
    r.files_refused = 0 AS complete
FROM days d
LEFT JOIN service_measures m USING (business_date)
LEFT JOIN traffic t USING (business_date)
LEFT JOIN trailing_mean tr USING (business_date)
LEFT JOIN refused_days r USING (business_date)
