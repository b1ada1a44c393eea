-- grain: one row per action day, cause and service action
-- inputs: effects (action_effects rows of the days built)
-- window: each action's own 7-day window (action_effects); the rates are over the measured actions
SELECT business_date, cause, action,
       count(*) AS actions,
       count(*) FILTER (WHERE window_closed) AS measured_actions,
       count(*) FILTER (WHERE resolved) AS resolved_actions,
       count(*) FILTER (WHERE window_closed AND recontacted) AS recontacted_actions,
       count(*) FILTER (WHERE window_closed AND came_back) AS came_back_actions,
       count(*) FILTER (WHERE window_closed AND followup_rating IS NOT NULL) AS rated_actions,
       coalesce(sum(followup_rating) FILTER (WHERE window_closed), 0) AS followup_rating_sum,
       coalesce(sum(resolution_hours) FILTER (WHERE resolved), 0.0) AS resolution_hours_sum,
       resolved_actions / nullif(measured_actions, 0) AS resolution_rate,
       recontacted_actions / nullif(measured_actions, 0) AS recontact_rate,
       followup_rating_sum / nullif(rated_actions, 0) AS followup_score,
       resolution_hours_sum / nullif(resolved_actions, 0) AS resolution_hours_mean
FROM effects
GROUP BY ALL
ORDER BY business_date, cause, action
