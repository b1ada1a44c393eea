-- grain: one row per work order of the input; inputs: work_orders (with their feedback_ids lists), fact (the rows
-- of their orders), tickets (metric_tickets.sql), logged (the helpdesk's logged actions: work_order_id, action,
-- acted_at, action_id, _pos); window: the work orders' business dates.
-- SLA outcome: breached when flagged, else met when resolved, else pending. One-touch: resolved with status
-- resolved, one issue, no later ticket on the order. Follow-up rating: the latest rated feedback on the order
-- created after the work order opened. Used item: the last logged action (by acted_at, action_id, input order),
-- else the first suggested action $resolution_actions lists for the final resolution (that of its feedback
-- resolved last, by resolved_at, feedback_id) of a resolved work order, else its primary suggested action.
-- Ties and nulls in those orderings count as pandas' stable sort did: nulls last, later input rows later.
CREATE OR REPLACE TEMP TABLE wo_rows AS
WITH later AS (
    SELECT DISTINCT w.work_order_id
    FROM work_orders w JOIN tickets t ON t.order_scope = w.order_scope AND t.order_id = w.order_id
    WHERE t.created > w.opened_at
), followup AS (
    SELECT w.work_order_id, arg_max_null(f.rating, (f.feedback_created_at, f.feedback_id)) AS rating
    FROM work_orders w JOIN fact f ON f.order_scope = w.order_scope AND f.order_id = w.order_id
    WHERE f.has_feedback AND f.rating IS NOT NULL AND f.feedback_created_at > w.opened_at
    GROUP BY w.work_order_id
), own AS (
    SELECT work_order_id, order_scope, unnest(feedback_ids) AS feedback_id FROM work_orders
), final AS (
    SELECT o.work_order_id, arg_max_null(f.resolution, (f.resolved_at, f.feedback_id)) AS resolution
    FROM own o JOIN fact f ON f.order_scope = o.order_scope AND f.feedback_id = o.feedback_id
    WHERE f.resolved_at IS NOT NULL
    GROUP BY o.work_order_id
), last_logged AS (
    SELECT work_order_id, arg_max_null(action, (acted_at, action_id, _pos)) AS action FROM logged GROUP BY ALL
), judged AS (
    SELECT
        w.*,
        w.resolved_at IS NOT NULL AS resolved,
        hours_between(w.opened_at, w.resolved_at) AS resolution_hours,
        CASE WHEN coalesce(w.sla_breached, false) THEN 'breached' WHEN w.resolved_at IS NOT NULL THEN 'met'
             ELSE 'pending' END AS sla_outcome,
        w.resolved_at IS NOT NULL AND coalesce(w.status = 'resolved', false) AND coalesce(w.issue_count = 1, false)
            AND later.work_order_id IS NULL AS one_touch,
        CAST(followup.rating AS DOUBLE) AS followup_rating,
        list_filter(
            string_split(w.suggested_actions, ' | '),
            lambda a: list_contains(
                CAST($resolution_actions AS VARCHAR[][])[
                    list_position(CAST($resolutions AS VARCHAR[]), final.resolution)
                ],
                a
            )
        )[1] AS by_resolution,
        last_logged.action AS by_log
    FROM work_orders w
    LEFT JOIN later USING (work_order_id)
    LEFT JOIN followup USING (work_order_id)
    LEFT JOIN final ON final.work_order_id = w.work_order_id AND w.resolved_at IS NOT NULL
    LEFT JOIN last_logged USING (work_order_id)
)
SELECT
    * EXCLUDE (by_resolution, by_log),
    coalesce(by_log, by_resolution, suggested_action) AS used_action,
    by_log IS NULL AND by_resolution IS NOT NULL AS used_by_resolution,
    by_log IS NOT NULL AS used_by_log
FROM judged
