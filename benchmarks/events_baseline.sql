-- Hand-written DuckDB SQL for behaviour_signals and behaviour_funnels over the whole range at once: the rules of
-- after_sales/config/behaviour_signals.yaml written out (no per-partition windows, no rule files, ASOF join for the
-- attribution). Reads src.after_sales.stg_events / stg_orders; query_causes (query -> cause, from the jieba
-- tokenizer: not SQL) and days are registered by benchmarks/events.py. Output: after_sales.behaviour_signals and
-- after_sales.behaviour_funnels of this database (created with the project's DDL beforehand).
CREATE TEMP TABLE o AS
SELECT order_id, user_id, created_at, channel, CAST(timezone($tz, created_at) AS DATE) AS order_date
FROM src.after_sales.stg_orders
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY landing_date DESC, source_file DESC, source_row DESC) = 1;

CREATE TEMP TABLE latest AS
SELECT event_id, visitor_id, user_id, order_id, occurred_at, event_type, page, search_query, result, result_count,
       reason_code
FROM src.after_sales.stg_events
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY landing_date DESC, source_file DESC, source_row DESC) = 1;

CREATE TEMP TABLE e AS
WITH att AS (
    SELECT l.event_id, o.order_id
    FROM (SELECT event_id, user_id, occurred_at FROM latest WHERE order_id IS NULL AND user_id IS NOT NULL) AS l
    ASOF JOIN o ON l.user_id = o.user_id AND o.created_at <= l.occurred_at
    WHERE o.created_at > l.occurred_at - INTERVAL 30 DAY
)
SELECT l.*,
       coalesce(l.order_id, att.order_id) AS order_key,
       (l.order_id IS NULL AND att.order_id IS NOT NULL) AS order_attributed,
       coalesce(l.order_id, att.order_id, 'visitor:' || l.visitor_id) AS subject_id,
       CAST(timezone($tz, l.occurred_at) AS DATE) AS day
FROM latest AS l LEFT JOIN att USING (event_id);

-- qualifying events of the five counted rules: (rule, window hours, min count, grp)
CREATE TEMP TABLE q AS
SELECT 'repeated_payment_failure' AS rule, 24 AS hours, 2 AS min_count, * EXCLUDE (ok)
FROM (
    SELECT *, result = 'failure' AS ok,
           sum(CASE WHEN result = 'success' THEN 1 ELSE 0 END)
               OVER (PARTITION BY subject_id ORDER BY occurred_at, event_id ROWS UNBOUNDED PRECEDING) AS grp
    FROM e WHERE event_type = 'payment_result'
) WHERE ok
UNION ALL
SELECT CASE qc.cause WHEN 'payment' THEN 'payment_search' WHEN 'not_delivered' THEN 'delivery_search'
                     ELSE 'return_search' END, 24, 1, e.*, 0
FROM e JOIN query_causes AS qc USING (search_query)
WHERE e.event_type = 'search' AND qc.cause IN ('payment', 'not_delivered', 'cumbersome_return')
UNION ALL
SELECT 'late_parcel_tracking', 168, 3, e.*, 0
FROM e JOIN o ON e.order_key = o.order_id
WHERE e.event_type = 'order_track_view' AND e.occurred_at > o.created_at + INTERVAL 3 DAY
UNION ALL
SELECT 'return_back_and_forth', 24, 2, * EXCLUDE (step, previous_step), 0
FROM (
    SELECT *, lag(step) OVER (PARTITION BY subject_id ORDER BY occurred_at, event_id) AS previous_step
    FROM (SELECT *, TRY_CAST(regexp_extract(page, '(\d+)$', 1) AS INTEGER) AS step FROM e
          WHERE event_type = 'return_step')
) WHERE step < previous_step;

CREATE TEMP TABLE counted AS
SELECT *,
       count(*) OVER (PARTITION BY rule, subject_id, grp ORDER BY occurred_at
                      RANGE BETWEEN to_hours(hours) PRECEDING AND CURRENT ROW) AS n,
       count(*) OVER (PARTITION BY rule, subject_id, grp ORDER BY occurred_at
                      RANGE BETWEEN to_hours(hours) PRECEDING AND INTERVAL 1 MICROSECOND PRECEDING) AS n_before,
       min(occurred_at) OVER (PARTITION BY rule, subject_id, grp ORDER BY occurred_at
                              RANGE BETWEEN to_hours(hours) PRECEDING AND CURRENT ROW) AS first_at,
       string_agg(event_id, ',' ORDER BY occurred_at, event_id)
           OVER (PARTITION BY rule, subject_id, grp ORDER BY occurred_at
                 RANGE BETWEEN to_hours(hours) PRECEDING AND CURRENT ROW) AS ids
FROM q;

CREATE TEMP TABLE fired AS
SELECT rule, day AS signal_date, subject_id, order_key AS order_id, order_attributed, visitor_id, user_id,
       occurred_at AS detected_at, first_at AS first_event_at, occurred_at AS last_event_at, n AS event_count,
       ids AS event_ids
FROM counted
WHERE n >= min_count AND n_before < min_count AND day >= $first_day AND day <= $last_day
QUALIFY row_number() OVER (PARTITION BY rule, day, subject_id ORDER BY occurred_at, event_id) = 1;

-- abandoned_return: a return_start with no return_submit of the subject within 24 h, detected at the end of the wait
INSERT INTO fired
WITH starts AS (
    SELECT s.*, s.occurred_at + INTERVAL 24 HOUR AS due FROM e AS s
    WHERE s.event_type = 'return_start'
      AND s.occurred_at + INTERVAL 24 HOUR <= (SELECT max(occurred_at) FROM e)
      AND NOT EXISTS (SELECT 1 FROM e AS f WHERE f.subject_id = s.subject_id AND f.event_type = 'return_submit'
                      AND f.occurred_at BETWEEN s.occurred_at AND s.occurred_at + INTERVAL 24 HOUR)
),
firsts AS (
    SELECT *, CAST(timezone($tz, due) AS DATE) AS signal_date FROM starts
    WHERE CAST(timezone($tz, due) AS DATE) BETWEEN $first_day AND $last_day
    QUALIFY row_number() OVER (PARTITION BY signal_date, subject_id ORDER BY occurred_at, event_id) = 1
)
SELECT 'abandoned_return', a.signal_date, a.subject_id, a.order_key, a.order_attributed, a.visitor_id, a.user_id,
       a.due, a.occurred_at, max(x.occurred_at), count(*), string_agg(x.event_id, ',' ORDER BY x.occurred_at, x.event_id)
FROM firsts AS a JOIN e AS x ON x.subject_id = a.subject_id AND x.occurred_at BETWEEN a.occurred_at AND a.due
GROUP BY ALL;

INSERT INTO after_sales.behaviour_signals BY NAME
SELECT f.*,
       CASE WHEN f.rule LIKE '%payment%' THEN 'payment' WHEN f.rule IN ('late_parcel_tracking', 'delivery_search')
            THEN 'not_delivered' ELSE 'cumbersome_return' END AS cause,
       CASE WHEN f.rule LIKE '%payment%' THEN '更换支付方式' WHEN f.rule IN ('late_parcel_tracking', 'delivery_search')
            THEN '查看物流进度' ELSE '上门取件' END AS suggested_action,
       o.order_date, o.channel
FROM fired AS f LEFT JOIN o USING (order_id);

-- funnels, one row per day
INSERT INTO after_sales.behaviour_funnels BY NAME
WITH ed AS (SELECT * FROM e WHERE day BETWEEN $first_day AND $last_day),
checkout AS (
    SELECT c.day, c.order_key, bool_or(p.event_id IS NOT NULL) AS paid
    FROM (SELECT day, order_key, min(occurred_at) AS at FROM ed
          WHERE event_type = 'checkout_start' AND order_key IS NOT NULL GROUP BY ALL) AS c
    LEFT JOIN e AS p ON p.order_key = c.order_key AND p.event_type = 'payment_result' AND p.result = 'success'
                    AND p.occurred_at BETWEEN c.at AND c.at + INTERVAL 24 HOUR
    GROUP BY ALL
),
per_day AS (
    SELECT day,
           count(*) FILTER (WHERE event_type = 'payment_result') AS payment_results,
           count(*) FILTER (WHERE event_type = 'payment_result' AND result = 'failure') AS payment_failures,
           count(DISTINCT visitor_id) AS visitors,
           count(DISTINCT visitor_id) FILTER (WHERE event_type IN ('contact_service', 'form_submit'))
               AS contacting_visitors,
           count(*) FILTER (WHERE event_type = 'search') AS searches,
           count(*) FILTER (WHERE event_type = 'search' AND result_count = 0) AS zero_result_searches
    FROM ed GROUP BY day
),
reasons AS (
    SELECT day, string_agg(reason || ' ' || n, ', ' ORDER BY n DESC, reason) AS payment_failure_reasons
    FROM (SELECT day, coalesce(reason_code, 'unknown') AS reason, count(*) AS n FROM ed
          WHERE event_type = 'payment_result' AND result = 'failure' GROUP BY ALL)
    GROUP BY day
),
tracking AS (
    SELECT ed.day, count(DISTINCT ed.order_key) AS tracked_orders,
           count(DISTINCT ed.order_key) FILTER (WHERE ed.occurred_at > o.created_at + INTERVAL 3 DAY)
               AS tracked_late_orders
    FROM ed LEFT JOIN o ON o.order_id = ed.order_key
    WHERE ed.event_type = 'order_track_view' AND ed.order_key IS NOT NULL GROUP BY ed.day
),
returns AS (
    SELECT day, count(*) AS return_starts, count(*) FILTER (WHERE done) AS returns_submitted
    FROM (SELECT s.day, s.event_id, bool_or(f.event_id IS NOT NULL) AS done
          FROM ed AS s LEFT JOIN e AS f ON f.subject_id = s.subject_id AND f.event_type = 'return_submit'
                                     AND f.occurred_at BETWEEN s.occurred_at AND s.occurred_at + INTERVAL 24 HOUR
          WHERE s.event_type = 'return_start' GROUP BY ALL)
    GROUP BY day
),
queries AS (
    SELECT day, search_query, count(*) AS n, count(*) FILTER (WHERE result_count = 0) AS zero,
           bool_or(qc.cause IS NOT NULL) AS after_sales
    FROM ed LEFT JOIN query_causes AS qc USING (search_query)
    WHERE event_type = 'search' AND search_query IS NOT NULL GROUP BY ALL
),
terms AS (
    SELECT day,
           sum(n) FILTER (WHERE after_sales) AS after_sales_searches,
           string_agg(search_query || ' ' || n, ', ' ORDER BY n DESC, search_query)
               FILTER (WHERE after_sales AND rank_all <= 10) AS top_after_sales_terms,
           string_agg(search_query || ' ' || zero, ', ' ORDER BY zero DESC, search_query)
               FILTER (WHERE zero > 0 AND rank_zero <= 10) AS top_zero_result_terms
    FROM (SELECT *, row_number() OVER (PARTITION BY day, after_sales ORDER BY n DESC, search_query) AS rank_all,
                    row_number() OVER (PARTITION BY day ORDER BY zero DESC, search_query) AS rank_zero
          FROM queries)
    GROUP BY day
),
paid AS (SELECT day, count(*) AS checkout_orders, count(*) FILTER (WHERE paid) AS paid_checkout_orders
         FROM checkout GROUP BY day)
SELECT d.business_date,
       coalesce(paid.checkout_orders, 0) AS checkout_orders,
       coalesce(paid.paid_checkout_orders, 0) AS paid_checkout_orders,
       paid.paid_checkout_orders / nullif(paid.checkout_orders, 0) AS checkout_payment_rate,
       coalesce(p.payment_results, 0) AS payment_results,
       coalesce(p.payment_failures, 0) AS payment_failures,
       p.payment_failures / nullif(p.payment_results, 0) AS payment_failure_rate,
       r.payment_failure_reasons,
       coalesce(t.tracked_orders, 0) AS tracked_orders,
       coalesce(t.tracked_late_orders, 0) AS tracked_late_orders,
       t.tracked_late_orders / nullif(t.tracked_orders, 0) AS tracked_late_rate,
       coalesce(rt.return_starts, 0) AS return_starts,
       coalesce(rt.returns_submitted, 0) AS returns_submitted,
       rt.returns_submitted / nullif(rt.return_starts, 0) AS return_completion_rate,
       coalesce(p.visitors, 0) AS visitors,
       coalesce(p.contacting_visitors, 0) AS contacting_visitors,
       p.contacting_visitors / nullif(p.visitors, 0) AS contact_rate,
       coalesce(p.searches, 0) AS searches,
       coalesce(tm.after_sales_searches, 0) AS after_sales_searches,
       coalesce(p.zero_result_searches, 0) AS zero_result_searches,
       p.zero_result_searches / nullif(p.searches, 0) AS zero_result_rate,
       tm.top_after_sales_terms,
       tm.top_zero_result_terms
FROM days AS d
LEFT JOIN paid ON paid.day = d.business_date
LEFT JOIN per_day AS p ON p.day = d.business_date
LEFT JOIN reasons AS r ON r.day = d.business_date
LEFT JOIN tracking AS t ON t.day = d.business_date
LEFT JOIN returns AS rt ON rt.day = d.business_date
LEFT JOIN terms AS tm ON tm.day = d.business_date
