-- grain: one row per problem order (business_date, order_scope, order_id) and matched cause;
-- inputs: problems (problem_orders rows); window: the problems' business dates. The service table as lists:
-- $action_causes with their $first_actions and $all_actions, $priorities with their $sla_hours.
-- Priority: P1 at a rating <= $p1_max_rating or a cause in $p1_causes, P2 at a rating <= $p2_max_rating or an
-- issue type in $p2_issue_types, else P3. A cause without actions gets $default_action(s). Open work orders are
-- judged for SLA breach as of $as_of (never when null). work_order_id: 'WO-' and the first 12 hex digits of
-- sha1('order_id|cause'), upper-cased; outside the own scope the key is prefixed with the scope and a NUL.
WITH e AS (
    SELECT p.*, unnest(string_split(matched_causes, ',')) AS cause_of_order FROM problems p
), g AS (
    SELECT
        business_date, order_scope, order_id, cause_of_order AS cause,
        first(channel ORDER BY feedback_created_at, feedback_id) FILTER (WHERE channel IS NOT NULL) AS channel,
        list(feedback_id ORDER BY feedback_id) FILTER (WHERE feedback_id IS NOT NULL) AS feedback_ids,
        count(*) AS issue_count,
        min(rating) AS min_rating,
        min(feedback_created_at) AS opened_at,
        max(resolved_at) AS last_resolved,
        bool_or(resolved_at IS NULL) AS any_unresolved,
        bool_or(coalesce(reopened, false)) AS any_reopened,
        bool_or(coalesce(list_contains(CAST($p2_issue_types AS VARCHAR[]), issue_type), false)) AS any_p2_type
    FROM e
    GROUP BY ALL
), pr AS (
    SELECT *,
        CASE WHEN coalesce(min_rating <= $p1_max_rating, false)
                  OR list_contains(CAST($p1_causes AS VARCHAR[]), cause) THEN 'P1'
             WHEN coalesce(min_rating <= $p2_max_rating, false) OR any_p2_type THEN 'P2'
             ELSE 'P3' END AS priority
    FROM g
), s AS (
    SELECT *, CAST($sla_hours AS BIGINT[])[list_position(CAST($priorities AS VARCHAR[]), priority)] AS sla_hours
    FROM pr
)
SELECT
    'WO-' || upper(substr(sha1(
        CASE WHEN order_scope = 'own' THEN '' ELSE order_scope || chr(0) END || order_id || '|' || cause
    ), 1, 12)) AS work_order_id,
    business_date, order_id, order_scope, channel, cause, feedback_ids, issue_count, min_rating,
    coalesce($first_actions[list_position($action_causes, cause)], $default_action) AS suggested_action,
    coalesce($all_actions[list_position($action_causes, cause)], $default_actions) AS suggested_actions,
    priority, sla_hours,
    CASE WHEN any_unresolved THEN 'open' WHEN any_reopened THEN 'reopened' ELSE 'resolved' END AS status,
    opened_at, opened_at + to_hours(sla_hours) AS due_at,
    CASE WHEN NOT any_unresolved THEN last_resolved END AS resolved_at,
    CASE WHEN NOT any_unresolved THEN coalesce(last_resolved > opened_at + to_hours(sla_hours), false)
         ELSE coalesce(opened_at + to_hours(sla_hours) < CAST($as_of AS TIMESTAMPTZ), false) END AS sla_breached,
    'feedback' AS found_by, false AS proactive, CAST(NULL AS TIMESTAMPTZ) AS first_signal_at,
    CAST(NULL AS VARCHAR) AS signal_rule
FROM s
ORDER BY business_date, order_scope, order_id, cause
