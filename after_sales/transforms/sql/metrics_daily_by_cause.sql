-- grain: one row per business date and cause with a problem issue (by its primary cause) or a work order (by its
-- cause); inputs: problems (problem_orders rows), wo_measures (work_order_measures.sql, member cause); window:
-- the rows' business dates.
CREATE OR REPLACE TEMP TABLE by_cause_sums AS
WITH issues AS (
    SELECT business_date, cause, count(*) AS problem_issues, count(DISTINCT (order_scope, order_id)) AS problem_orders
    FROM problems
    GROUP BY ALL
), pairs AS (
    SELECT business_date, cause FROM issues UNION SELECT business_date, member FROM wo_measures
)
SELECT p.business_date, p.cause, i.problem_issues, i.problem_orders, w.* EXCLUDE (business_date, member)
FROM pairs p
LEFT JOIN issues i ON i.business_date = p.business_date AND i.cause = p.cause
LEFT JOIN wo_measures w ON w.business_date = p.business_date AND w.member = p.cause
