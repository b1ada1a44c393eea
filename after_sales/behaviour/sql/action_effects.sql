-- grain: one row per logged service action of the window (actions)
-- inputs: actions (stg_actions rows of the days built), all_actions (stg_actions rows around them), events
--         (order_id, user_id, event_type, result, occurred_at), orders (order_id, user_id), complaints (feedback_id,
--         order_id, created_at), ratings (feedback_id, order_id, created_at, rating), found (order_id, cause, found_at)
-- window: the $window_days days after acted_at, (acted_at, acted_at + $window_days days]; measured when that end
--         lies within the data seen ($seen_until)
WITH a AS (
    SELECT a.*, a.acted_at + to_days(CAST($window_days AS INTEGER)) AS window_end, o.user_id
    FROM actions a
    LEFT JOIN (SELECT order_id, any_value(user_id) AS user_id FROM orders GROUP BY ALL) o USING (order_id)
),
ev AS (
    SELECT a.action_id,
           count(*) > 0 AS came_back,
           bool_or(e.event_type = 'order_track_view' AND e.order_id = a.order_id) AS tracked_again,
           bool_or(e.event_type = 'payment_result' AND e.result = 'success' AND e.order_id = a.order_id) AS paid,
           bool_or(e.event_type = 'return_submit' AND e.order_id = a.order_id) AS completed_return,
           bool_or(e.event_type IN ('contact_service', 'form_submit')) AS contacted
    FROM a
    JOIN events e
      ON (e.order_id = a.order_id OR (e.order_id IS NULL AND e.user_id = a.user_id))
     AND e.occurred_at > a.acted_at AND e.occurred_at <= a.window_end
    GROUP BY a.action_id
),
complained AS (
    SELECT DISTINCT a.action_id
    FROM a JOIN complaints c
      ON c.order_id = a.order_id AND c.created_at > a.acted_at AND c.created_at <= a.window_end
),
rated AS (
    SELECT a.action_id, arg_min(r.rating, struct_pack(t := r.created_at, f := r.feedback_id)) AS followup_rating
    FROM a JOIN ratings r
      ON r.order_id = a.order_id AND r.created_at > a.acted_at AND r.created_at <= a.window_end
    GROUP BY a.action_id
),
followed AS (
    SELECT DISTINCT a.action_id
    FROM a JOIN all_actions n
      ON n.work_order_id = a.work_order_id AND n.action_id <> a.action_id
     AND (n.acted_at > a.acted_at OR (n.acted_at = a.acted_at AND n.action_id > a.action_id))
     AND n.acted_at <= a.window_end
),
first_found AS (
    SELECT order_id, cause, min(found_at) AS found_at FROM found GROUP BY ALL
),
measured AS (
    SELECT a.*,
           f.found_at AS problem_found_at,
           coalesce(ev.came_back, false) AS came_back,
           coalesce(ev.tracked_again, false) AS tracked_again,
           coalesce(ev.paid, false) AS paid,
           coalesce(ev.completed_return, false) AS completed_return,
           coalesce(ev.contacted, false) OR complained.action_id IS NOT NULL AS recontacted,
           followed.action_id IS NOT NULL AS followed_by_action,
           rated.followup_rating,
           a.window_end <= $seen_until AS window_closed
    FROM a
    LEFT JOIN ev USING (action_id)
    LEFT JOIN complained USING (action_id)
    LEFT JOIN rated USING (action_id)
    LEFT JOIN followed USING (action_id)
    LEFT JOIN first_found f ON f.order_id = a.order_id AND f.cause = a.cause AND f.found_at <= a.acted_at
)
SELECT business_date, action_id, work_order_id, order_id, cause, action, agent, acted_at,
       outcome AS logged_outcome, problem_found_at, came_back, tracked_again, paid, completed_return, recontacted,
       followed_by_action, followup_rating, window_closed,
       CASE WHEN window_closed
            THEN NOT recontacted AND NOT followed_by_action AND coalesce(followup_rating >= 3, true) END AS resolved,
       CASE WHEN window_closed AND NOT recontacted AND NOT followed_by_action AND coalesce(followup_rating >= 3, true)
            THEN epoch(acted_at - coalesce(problem_found_at, acted_at)) / 3600.0 END AS resolution_hours
FROM measured
ORDER BY business_date, acted_at, action_id
