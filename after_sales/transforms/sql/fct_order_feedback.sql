-- grain: one row per order and feedback (an order without feedback: one row, its feedback columns null);
-- inputs: orders, feedback (every landed version of a row: the one landed last counts, by landing_date,
-- source_file, source_row, then input position _pos; nulls count as latest, as pandas sorts them last);
-- window: the orders' business_date in [$start, $end); feedback of any date joins its order.
-- Every row carries its order_scope (marts.with_order_scope). is_problem: rated below 3 or an issue type in
-- $complaint_types. Sorted by business_date, order_scope, order_id, feedback_id (nulls first).
WITH o AS (
    SELECT * FROM orders WHERE _pos IN (
        SELECT max_by(_pos, (landing_date, source_file, source_row, _pos)) FROM orders GROUP BY order_scope, order_id
    )
), f AS (
    SELECT * FROM feedback WHERE _pos IN (
        SELECT max_by(_pos, (landing_date, source_file, source_row, _pos)) FROM feedback
        GROUP BY order_scope, feedback_id
    )
)
SELECT
    o.business_date, o.order_id, o.order_scope, o.created_at AS order_created_at, o.channel, o.user_id,
    o.product, o.quantity, o.amount, o.payment_method, o.status AS order_status,
    f.feedback_id, f.created_at AS feedback_created_at, f.rating, f.issue_type, f.issue_description,
    f.first_response_at, f.resolved_at, f.resolution, f.reopened, f.refund_amount,
    f.feedback_id IS NOT NULL AS has_feedback,
    f.feedback_id IS NOT NULL AND (
        coalesce(f.rating < 3, false)
        OR coalesce(list_contains(CAST($complaint_types AS VARCHAR[]), f.issue_type), false)
    ) AS is_problem
FROM o LEFT JOIN f ON f.order_scope = o.order_scope AND f.order_id = o.order_id
WHERE o.business_date >= $start AND o.business_date < $end
ORDER BY o.business_date NULLS FIRST, o.order_scope NULLS FIRST, o.order_id NULLS FIRST, f.feedback_id NULLS FIRST
