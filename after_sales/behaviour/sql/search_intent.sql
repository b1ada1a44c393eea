-- grain: one row per qualifying event: a search whose query the keyword table locates to $cause
-- inputs: ev (prepare.sql), query_causes (search_query -> cause, from cause_rules.yaml keywords on jieba tokens)
-- window: every event handed in
SELECT ev.subject_id, ev.order_key, ev.order_attributed, ev.visitor_id, ev.user_id, ev.event_id, ev.occurred_at,
       0 AS grp
FROM ev
JOIN query_causes AS qc ON ev.search_query = qc.search_query
WHERE ev.event_type = 'search'
  AND qc.cause = $cause
