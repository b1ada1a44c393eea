-- grain: one row per business date (and channel when $member is 'channel'; else member '*') with orders,
-- problems or work orders; inputs: fact, problems (problem_orders rows), tickets (metric_tickets.sql), wo_measures
-- (work_order_measures.sql, same $member); window: the fact's business dates. Every service measure but the
-- ratios: an order is (order_scope, order_id); a refund order has a feedback of a $refund_types issue type
-- (lower-cased) or a refund_amount above 0, a dispute order one of a $dispute_types issue type.
CREATE OR REPLACE TEMP TABLE service_measures AS
WITH f AS (
    SELECT *, CASE WHEN $member = 'channel' THEN channel ELSE '*' END AS member,
        lower(coalesce(issue_type, '')) AS kind
    FROM fact
), orders AS (
    SELECT
        business_date, member,
        count(DISTINCT (order_scope, order_id)) AS orders,
        count(DISTINCT (order_scope, order_id)) FILTER (WHERE has_feedback) AS orders_with_feedback,
        count(feedback_id) AS feedback_count,
        count(DISTINCT (order_scope, order_id)) FILTER (WHERE has_feedback AND (
            list_contains(CAST($refund_types AS VARCHAR[]), kind) OR coalesce(refund_amount > 0, false)
        )) AS refund_orders,
        sum(refund_amount) FILTER (WHERE has_feedback) AS refund_amount,
        count(DISTINCT (order_scope, order_id)) FILTER (
            WHERE has_feedback AND list_contains(CAST($dispute_types AS VARCHAR[]), kind)
        ) AS dispute_orders
    FROM f
    GROUP BY ALL
), amounts AS (
    SELECT business_date, member, sum(amount) AS order_amount
    FROM (SELECT DISTINCT ON (order_scope, order_id) business_date, member, amount FROM f)
    GROUP BY ALL
), problem_counts AS (
    SELECT business_date, CASE WHEN $member = 'channel' THEN channel ELSE '*' END AS member,
        count(DISTINCT (order_scope, order_id)) AS problem_orders
    FROM problems
    GROUP BY ALL
), ticket_counts AS (
    SELECT
        business_date, CASE WHEN $member = 'channel' THEN channel ELSE '*' END AS member,
        count(*) AS tickets,
        count(*) FILTER (WHERE effective) AS effective_after_sales_count,
        count(*) FILTER (WHERE handled) AS handled_tickets,
        sum(handling_hours) AS handling_time_hours_sum,
        quantile_cont(handling_hours, 0.5) AS handling_time_hours_median,
        count(rating) AS rated_tickets,
        count(*) FILTER (WHERE rating >= $csat_min_rating) AS satisfied_tickets,
        count(*) FILTER (WHERE responded) AS responded_tickets,
        sum(first_response_hours) AS first_response_hours_sum,
        quantile_cont(first_response_hours, 0.5) AS first_response_hours_median,
        quantile_cont(first_response_hours, 0.9) AS first_response_hours_p90,
        count(*) FILTER (WHERE reopened) AS reopened_tickets
    FROM tickets
    GROUP BY ALL
), members AS (
    SELECT business_date, member FROM orders
    UNION SELECT business_date, member FROM problem_counts
    UNION SELECT business_date, member FROM wo_measures
)
SELECT *
FROM members
LEFT JOIN orders USING (business_date, member)
LEFT JOIN amounts USING (business_date, member)
LEFT JOIN problem_counts USING (business_date, member)
LEFT JOIN ticket_counts USING (business_date, member)
LEFT JOIN wo_measures USING (business_date, member)
