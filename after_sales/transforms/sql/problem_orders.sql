-- grain: one row per problem issue (a fact row with is_problem), in the fact's row order (_pos);
-- inputs: fact (fct_order_feedback rows), located (causes.sql over the same rows as issues);
-- window: the fact's business dates. Found by the feedback itself: behaviour signals may date it earlier
-- (after_sales/behaviour/proactive.py). is_complaint: an issue type in $complaint_types.
SELECT
    f.business_date, f.order_id, f.order_scope, f.feedback_id, f.channel, f.amount, f.feedback_created_at,
    f.rating, f.issue_type, f.issue_description,
    coalesce(f.rating < 3, false) AS is_low_rating,
    coalesce(list_contains(CAST($complaint_types AS VARCHAR[]), f.issue_type), false) AS is_complaint,
    l.cause, l.matched_causes, f.resolved_at, f.reopened,
    'feedback' AS found_by, f.feedback_created_at AS found_at, CAST(NULL AS VARCHAR) AS signal_rule
FROM fact f JOIN located l USING (_pos)
WHERE f.is_problem
ORDER BY f._pos
