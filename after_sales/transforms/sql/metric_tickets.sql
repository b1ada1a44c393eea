-- grain: one row per ticket: a fact row with feedback whose issue_type is not review; inputs: fact
-- (fct_order_feedback rows); window: the fact's business dates. Hours by metric_macros.sql. A ticket is handled
-- when resolved, reopened when handled and flagged reopened, effective when handled, responded, not rejected and
-- not reopened (docs/metrics.md).
CREATE OR REPLACE TEMP VIEW tickets AS
SELECT
    business_date, channel, order_scope, order_id, feedback_id, feedback_created_at AS created,
    CAST(rating AS DOUBLE) AS rating,
    first_response_at IS NOT NULL AS responded,
    hours_between(feedback_created_at, first_response_at) AS first_response_hours,
    resolved_at IS NOT NULL AS handled,
    hours_between(feedback_created_at, resolved_at) AS handling_hours,
    resolved_at IS NOT NULL AND coalesce(reopened, false) AS reopened,
    resolved_at IS NOT NULL AND first_response_at IS NOT NULL AND coalesce(resolution, '') <> 'rejected'
        AND NOT coalesce(reopened, false) AS effective
FROM fact
WHERE has_feedback AND coalesce(issue_type, '') <> 'review'
