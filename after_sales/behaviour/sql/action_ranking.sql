-- grain: one row per day D, cause and service action (every action of service_actions.yaml for the cause, and
--        every action taken for it in the lookback)
-- inputs: effects (action_effects rows), prior (cause, action, prior_rank: the order of service_actions.yaml),
--         days (business_date)
-- window: actions taken in the $lookback_days days before D whose effect window ended by the start of D
WITH evidence AS (
    SELECT d.business_date, e.cause, e.action,
           count(*) AS measured_actions,
           count(*) FILTER (WHERE e.resolved) AS resolved_actions
    FROM days d
    JOIN effects e
      ON e.business_date >= d.business_date - CAST($lookback_days AS INTEGER)
     AND e.business_date < d.business_date
     AND e.window_closed
     AND e.acted_at + to_days(CAST($window_days AS INTEGER)) <= timezone($tz, CAST(d.business_date AS TIMESTAMP))
    GROUP BY ALL
),
candidates AS (
    SELECT d.business_date, p.cause, p.action, p.prior_rank, true AS listed FROM days d CROSS JOIN prior p
    UNION ALL
    SELECT e.business_date, e.cause, e.action,
           (SELECT max(prior_rank) FROM prior p WHERE p.cause = e.cause)
             + row_number() OVER (PARTITION BY e.business_date, e.cause ORDER BY e.action),
           false
    FROM evidence e ANTI JOIN prior p ON p.cause = e.cause AND p.action = e.action
),
scored AS (
    SELECT c.*, coalesce(e.measured_actions, 0) AS measured_actions, coalesce(e.resolved_actions, 0) AS resolved_actions,
           e.resolved_actions / nullif(e.measured_actions, 0) AS resolution_rate,
           coalesce(e.measured_actions, 0) >= $min_evidence AS has_evidence
    FROM candidates c
    LEFT JOIN evidence e USING (business_date, cause, action)
),
wilson AS (
    SELECT *,
           CASE WHEN measured_actions > 0 THEN
               (resolution_rate + $z * $z / (2 * measured_actions)
                - $z * sqrt(resolution_rate * (1 - resolution_rate) / measured_actions
                            + $z * $z / (4.0 * measured_actions * measured_actions)))
               / (1 + $z * $z / measured_actions)
           END AS wilson_low
    FROM scored
),
-- An action with evidence may move only into a place held by another action with evidence: the evidenced actions
-- of a cause are sorted by wilson_low among their own places of service_actions.yaml; the others keep theirs.
places AS (
    SELECT business_date, cause, prior_rank,
           row_number() OVER (PARTITION BY business_date, cause ORDER BY prior_rank) AS k
    FROM wilson WHERE has_evidence
),
merit AS (
    SELECT business_date, cause, action,
           row_number() OVER (PARTITION BY business_date, cause ORDER BY wilson_low DESC, prior_rank, action) AS k
    FROM wilson WHERE has_evidence
),
moved AS (
    SELECT m.business_date, m.cause, m.action, p.prior_rank AS new_place
    FROM merit m JOIN places p USING (business_date, cause, k)
),
placed AS (
    SELECT w.*, coalesce(m.new_place, w.prior_rank) AS place
    FROM wilson w LEFT JOIN moved m USING (business_date, cause, action)
)
SELECT business_date, cause, action, prior_rank, listed, measured_actions, resolved_actions, resolution_rate,
       wilson_low, has_evidence,
       row_number() OVER (PARTITION BY business_date, cause ORDER BY place, action) AS rank
FROM placed
ORDER BY business_date, cause, rank
