-- grain: one row per business day D of the events
-- inputs: ev (the funnels' event types, attributed), latest, orders_latest (prepare.sql), query_causes
--         (search_query -> cause), days (business_date); visitors and contacts count every latest event
-- window: the events of D; a checkout or return started on D is completed by a success / submit within
--         $follow_hours hours (events after D are read for that); promised time = created_at + $promised_days days
-- visitors and contacts over every latest event, first and on their own: the one statement that reads every
-- event (distinct visitors as the groups of a plain GROUP BY, which spills to disk)
CREATE OR REPLACE TEMP TABLE visits AS
SELECT day, count(visitor_id) AS visitors, count(visitor_id) FILTER (WHERE contacted) AS contacting_visitors
FROM (
    SELECT CAST(timezone($tz, occurred_at) AS DATE) AS day, visitor_id,
           bool_or(event_type IN ('contact_service', 'form_submit')) AS contacted
    FROM latest GROUP BY ALL
)
GROUP BY ALL;

WITH e AS (
    SELECT *, CAST(timezone($tz, occurred_at) AS DATE) AS day FROM ev
),
checkout AS (
    SELECT c.day, c.order_key,
           bool_or(p.event_id IS NOT NULL) AS paid
    FROM (SELECT day, order_key, min(occurred_at) AS at FROM e
          WHERE event_type = 'checkout_start' AND order_key IS NOT NULL GROUP BY ALL) AS c
    LEFT JOIN e AS p
      ON p.order_key = c.order_key AND p.event_type = 'payment_result' AND p.result = 'success'
     AND p.occurred_at >= c.at AND p.occurred_at <= c.at + to_hours(CAST($follow_hours AS BIGINT))
    GROUP BY ALL
),
payments AS (
    SELECT day, count(*) AS payment_results, count(*) FILTER (WHERE result = 'failure') AS payment_failures
    FROM e WHERE event_type = 'payment_result' GROUP BY ALL
),
reasons AS (
    SELECT day, string_agg(reason || ' ' || n, ', ' ORDER BY n DESC, reason) AS failure_reasons
    FROM (SELECT day, coalesce(reason_code, 'unknown') AS reason, count(*) AS n FROM e
          WHERE event_type = 'payment_result' AND result = 'failure' GROUP BY ALL)
    GROUP BY ALL
),
tracking AS (
    SELECT e.day, count(DISTINCT e.order_key) AS tracked_orders,
           count(DISTINCT e.order_key) FILTER (
               WHERE e.occurred_at > o.created_at + to_days(CAST($promised_days AS INTEGER))) AS tracked_late_orders
    FROM e LEFT JOIN orders_latest AS o ON o.order_id = e.order_key
    WHERE e.event_type = 'order_track_view' AND e.order_key IS NOT NULL
    GROUP BY ALL
),
returns AS (
    SELECT s.day, count(*) AS return_starts, count(*) FILTER (WHERE done) AS returns_submitted
    FROM (
        SELECT s.day, s.event_id, bool_or(f.event_id IS NOT NULL) AS done
        FROM e AS s
        LEFT JOIN e AS f
          ON f.subject_id = s.subject_id AND f.event_type = 'return_submit'
         AND f.occurred_at >= s.occurred_at AND f.occurred_at <= s.occurred_at + to_hours(CAST($follow_hours AS BIGINT))
        WHERE s.event_type = 'return_start'
        GROUP BY ALL
    ) AS s
    GROUP BY ALL
),

searches AS (
    SELECT day, count(*) AS searches, count(*) FILTER (WHERE result_count = 0) AS zero_result_searches,
           count(*) FILTER (WHERE qc.cause IS NOT NULL) AS after_sales_searches
    FROM e LEFT JOIN query_causes AS qc USING (search_query)
    WHERE event_type = 'search' GROUP BY ALL
),
terms AS (
    SELECT day,
           string_agg(search_query || ' ' || n, ', ' ORDER BY n DESC, search_query)
               FILTER (WHERE after_sales AND rank_all <= $top_terms) AS top_after_sales_terms,
           string_agg(search_query || ' ' || zero, ', ' ORDER BY zero DESC, search_query)
               FILTER (WHERE zero > 0 AND rank_zero <= $top_terms) AS top_zero_result_terms
    FROM (
        SELECT *, row_number() OVER (PARTITION BY day, after_sales ORDER BY n DESC, search_query) AS rank_all,
                  row_number() OVER (PARTITION BY day ORDER BY zero DESC, search_query) AS rank_zero
        FROM (
            SELECT day, search_query, count(*) AS n, count(*) FILTER (WHERE result_count = 0) AS zero,
                   bool_or(qc.cause IS NOT NULL) AS after_sales
            FROM e LEFT JOIN query_causes AS qc USING (search_query)
            WHERE event_type = 'search' AND search_query IS NOT NULL GROUP BY ALL
        )
    )
    GROUP BY ALL
)
SELECT
    d.business_date,
    coalesce(count(c.order_key), 0) AS checkout_orders,
    coalesce(count(c.order_key) FILTER (WHERE c.paid), 0) AS paid_checkout_orders,
    count(c.order_key) FILTER (WHERE c.paid) / nullif(count(c.order_key), 0) AS checkout_payment_rate,
    coalesce(any_value(p.payment_results), 0) AS payment_results,
    coalesce(any_value(p.payment_failures), 0) AS payment_failures,
    any_value(p.payment_failures) / nullif(any_value(p.payment_results), 0) AS payment_failure_rate,
    any_value(r.failure_reasons) AS payment_failure_reasons,
    coalesce(any_value(t.tracked_orders), 0) AS tracked_orders,
    coalesce(any_value(t.tracked_late_orders), 0) AS tracked_late_orders,
    any_value(t.tracked_late_orders) / nullif(any_value(t.tracked_orders), 0) AS tracked_late_rate,
    coalesce(any_value(rt.return_starts), 0) AS return_starts,
    coalesce(any_value(rt.returns_submitted), 0) AS returns_submitted,
    any_value(rt.returns_submitted) / nullif(any_value(rt.return_starts), 0) AS return_completion_rate,
    coalesce(any_value(v.visitors), 0) AS visitors,
    coalesce(any_value(v.contacting_visitors), 0) AS contacting_visitors,
    any_value(v.contacting_visitors) / nullif(any_value(v.visitors), 0) AS contact_rate,
    coalesce(any_value(s.searches), 0) AS searches,
    coalesce(any_value(s.after_sales_searches), 0) AS after_sales_searches,
    coalesce(any_value(s.zero_result_searches), 0) AS zero_result_searches,
    any_value(s.zero_result_searches) / nullif(any_value(s.searches), 0) AS zero_result_rate,
    any_value(tm.top_after_sales_terms) AS top_after_sales_terms,
    any_value(tm.top_zero_result_terms) AS top_zero_result_terms
FROM days AS d
LEFT JOIN checkout AS c ON c.day = d.business_date
LEFT JOIN payments AS p ON p.day = d.business_date
LEFT JOIN reasons AS r ON r.day = d.business_date
LEFT JOIN tracking AS t ON t.day = d.business_date
LEFT JOIN returns AS rt ON rt.day = d.business_date
LEFT JOIN visits AS v ON v.day = d.business_date
LEFT JOIN searches AS s ON s.day = d.business_date
LEFT JOIN terms AS tm ON tm.day = d.business_date
GROUP BY d.business_date
ORDER BY d.business_date
