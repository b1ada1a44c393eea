-- Hand-written DuckDB SQL computing the pipeline's staging tables and marts from the same landing CSVs:
-- the near-limit baseline on this machine. benchmarks/baseline.py fills the {{...}} placeholders
-- (paths, window, time zone, the cause keyword rules and the service-action table, both read from
-- after_sales/config/*.yaml) and runs the statements in order in one DuckDB connection.
--
-- Simplifications, stated: this reads the own-site sources (orders, feedback, behaviour CSVs with
-- the generator's columns); rows breaking a row rule are dropped rather than quarantined with a
-- reason (the benchmark data has fault rate 0, so there are none), and duplicates are removed by
-- keeping the first row per id and landing day, which is what the staging rules keep.
-- Window: one single-run partition range [start, end), exactly as the Dagster run reads it:
-- orders landed in [start, end + late days), feedback landed in [start, end + 14 days).

SET TimeZone = 'UTC';
CREATE SCHEMA IF NOT EXISTS after_sales;

-- 1. Landed text, every column VARCHAR, with landing day, relative path and 1-based row number.
CREATE OR REPLACE TEMP TABLE raw_orders AS
SELECT *, CAST(regexp_extract(filename, '/(\d{4}-\d{2}-\d{2})/[^/]*$', 1) AS DATE) AS landing_date
FROM read_csv('{{LANDING}}/orders/*/*.csv', all_varchar = true, header = true, filename = true)
WHERE CAST(regexp_extract(filename, '/(\d{4}-\d{2}-\d{2})/[^/]*$', 1) AS DATE) >= DATE '{{START}}'
  AND CAST(regexp_extract(filename, '/(\d{4}-\d{2}-\d{2})/[^/]*$', 1) AS DATE) < DATE '{{END}}';

CREATE OR REPLACE TEMP TABLE raw_feedback AS
SELECT *, CAST(regexp_extract(filename, '/(\d{4}-\d{2}-\d{2})/[^/]*$', 1) AS DATE) AS landing_date
FROM read_csv('{{LANDING}}/feedback/*/*.csv', all_varchar = true, header = true, filename = true)
WHERE CAST(regexp_extract(filename, '/(\d{4}-\d{2}-\d{2})/[^/]*$', 1) AS DATE) >= DATE '{{START}}'
  AND CAST(regexp_extract(filename, '/(\d{4}-\d{2}-\d{2})/[^/]*$', 1) AS DATE) < DATE '{{END}}';

CREATE OR REPLACE TEMP TABLE raw_behaviour AS
SELECT *, CAST(regexp_extract(filename, '/(\d{4}-\d{2}-\d{2})/[^/]*$', 1) AS DATE) AS landing_date
FROM read_csv('{{LANDING}}/behaviour/*/*.csv', all_varchar = true, header = true, filename = true)
WHERE CAST(regexp_extract(filename, '/(\d{4}-\d{2}-\d{2})/[^/]*$', 1) AS DATE) >= DATE '{{START}}'
  AND CAST(regexp_extract(filename, '/(\d{4}-\d{2}-\d{2})/[^/]*$', 1) AS DATE) < DATE '{{END}}';

-- 2. Staging: typed, trimmed, lower-cased codes, local times to TIMESTAMPTZ, business date in the zone.
CREATE OR REPLACE TABLE after_sales.stg_orders AS
WITH typed AS (
    SELECT
        nullif(trim(order_id), '') AS order_id,
        TRY_CAST(trim(created_at) AS TIMESTAMP) AS local_created,
        nullif(trim("user"), '') AS user_id,
        nullif(trim(product), '') AS product,
        TRY_CAST(nullif(trim(quantity), '') AS DOUBLE) AS quantity,
        TRY_CAST(nullif(trim(amount), '') AS DECIMAL(18, 2)) AS amount,
        nullif(trim(payment_method), '') AS payment_method,
        lower(nullif(trim(status), '')) AS status,
        nullif(trim(status), '') AS status_raw,
        lower(nullif(trim(channel), '')) AS channel,
        landing_date,
        substr(filename, length('{{LANDING}}/') + 1) AS source_file,
        rowid AS rid
    FROM raw_orders
)
SELECT
    order_id,
    timezone('{{TZ}}', local_created) AS created_at,
    CAST(local_created AS DATE) AS business_date,
    user_id, product, CAST(quantity AS BIGINT) AS quantity, amount, payment_method, status, status_raw, channel,
    landing_date, 'orders' AS source, source_file,
    CAST(rid - min(rid) OVER (PARTITION BY source_file) + 1 AS BIGINT) AS source_row
FROM typed
WHERE order_id IS NOT NULL AND local_created IS NOT NULL
  AND CAST(local_created AS DATE) BETWEEN landing_date - {{LATE_DAYS}} AND landing_date
  AND amount >= 0 AND (quantity IS NULL OR (quantity >= 1 AND quantity = round(quantity)))
  AND status IN ({{ORDER_STATUSES}}) AND channel IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY landing_date, order_id ORDER BY source_file, rid) = 1;

CREATE OR REPLACE TABLE after_sales.stg_feedback AS
WITH typed AS (
    SELECT
        nullif(trim(feedback_id), '') AS feedback_id,
        nullif(trim(order_id), '') AS order_id,
        TRY_CAST(trim(created_at) AS TIMESTAMP) AS local_created,
        nullif(trim(rating), '') AS rating_text,
        TRY_CAST(nullif(trim(rating), '') AS DOUBLE) AS rating,
        lower(nullif(trim(issue_type), '')) AS issue_type,
        coalesce(issue_description, '') AS issue_description,
        TRY_CAST(nullif(trim(first_response_at), '') AS TIMESTAMP) AS local_response,
        TRY_CAST(nullif(trim(resolved_at), '') AS TIMESTAMP) AS local_resolved,
        lower(nullif(trim(resolution), '')) AS resolution,
        lower(coalesce(trim(reopened), '')) AS reopened_text,
        landing_date,
        substr(filename, length('{{LANDING}}/') + 1) AS source_file,
        rowid AS rid
    FROM raw_feedback
)
SELECT
    feedback_id, order_id,
    timezone('{{TZ}}', local_created) AS created_at,
    CAST(local_created AS DATE) AS business_date,
    CAST(rating AS BIGINT) AS rating, issue_type, issue_description,
    timezone('{{TZ}}', local_response) AS first_response_at,
    timezone('{{TZ}}', local_resolved) AS resolved_at,
    resolution,
    reopened_text IN ({{TRUE_WORDS}}) AS reopened,
    CAST(NULL AS DECIMAL(18, 2)) AS refund_amount,
    CAST(NULL AS VARCHAR) AS refund_status,
    CAST(NULL AS VARCHAR) AS refund_status_raw,
    CAST(NULL AS VARCHAR) AS channel,
    landing_date, 'feedback' AS source, source_file,
    CAST(rid - min(rid) OVER (PARTITION BY source_file) + 1 AS BIGINT) AS source_row
FROM typed
WHERE feedback_id IS NOT NULL AND order_id IS NOT NULL AND local_created IS NOT NULL
  AND CAST(local_created AS DATE) BETWEEN landing_date - {{LATE_DAYS}} AND landing_date
  AND (rating_text IS NOT NULL OR issue_type IS DISTINCT FROM 'review')
  AND (rating_text IS NULL OR (rating BETWEEN 1 AND 5 AND rating = round(rating)))
  AND (local_response IS NULL OR (CAST(local_response AS DATE) <= landing_date AND local_response >= local_created))
  AND (local_resolved IS NULL OR (CAST(local_resolved AS DATE) <= landing_date AND local_resolved >= local_created))
  AND reopened_text IN ({{TRUE_WORDS}}, {{FALSE_WORDS}})
  -- unknown_order: the order must have landed from 14 days before to late-days after the feedback
  AND EXISTS (
      SELECT 1 FROM after_sales.stg_orders o
      WHERE o.order_id = typed.order_id
        AND o.landing_date BETWEEN typed.landing_date - {{FEEDBACK_WINDOW_DAYS}} AND typed.landing_date + {{LATE_DAYS}}
  )
QUALIFY row_number() OVER (PARTITION BY landing_date, feedback_id ORDER BY source_file, rid) = 1;

CREATE OR REPLACE TABLE after_sales.stg_behaviour AS
WITH typed AS (
    SELECT
        nullif(trim(session_id), '') AS session_id,
        nullif(trim(visitor_id), '') AS visitor_id,
        TRY_CAST(trim(started_at) AS TIMESTAMP) AS local_started,
        TRY_CAST(nullif(trim(ended_at), '') AS TIMESTAMP) AS local_ended,
        TRY_CAST(nullif(trim(pages), '') AS DOUBLE) AS pages,
        lower(coalesce(trim(submitted_after_sales_form), '')) AS submitted_text,
        landing_date,
        substr(filename, length('{{LANDING}}/') + 1) AS source_file,
        rowid AS rid
    FROM raw_behaviour
)
SELECT
    session_id, visitor_id,
    timezone('{{TZ}}', local_started) AS started_at,
    timezone('{{TZ}}', local_ended) AS ended_at,
    CAST(local_started AS DATE) AS business_date,
    CAST(pages AS BIGINT) AS pages,
    submitted_text IN ({{TRUE_WORDS}}) AS submitted_after_sales_form,
    landing_date, 'behaviour' AS source, source_file,
    CAST(rid - min(rid) OVER (PARTITION BY source_file) + 1 AS BIGINT) AS source_row
FROM typed
WHERE session_id IS NOT NULL AND visitor_id IS NOT NULL AND local_started IS NOT NULL
  AND CAST(local_started AS DATE) BETWEEN landing_date - {{LATE_DAYS}} AND landing_date
  AND (local_ended IS NULL OR local_ended >= local_started)
  AND (pages IS NULL OR (pages >= 0 AND pages = round(pages)))
  AND submitted_text IN ({{TRUE_WORDS}}, {{FALSE_WORDS}})
QUALIFY row_number() OVER (PARTITION BY landing_date, session_id ORDER BY source_file, rid) = 1;

-- 3. The fact: the latest landed version of each order of [start, end) left-joined with the latest
--    version of its feedback.
CREATE OR REPLACE TABLE after_sales.fct_order_feedback AS
WITH o AS (
    SELECT * FROM after_sales.stg_orders
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY landing_date DESC, source_file DESC, source_row DESC) = 1
), f AS (
    SELECT * FROM after_sales.stg_feedback
    QUALIFY row_number() OVER (PARTITION BY feedback_id ORDER BY landing_date DESC, source_file DESC, source_row DESC) = 1
)
SELECT
    o.business_date, o.order_id, o.created_at AS order_created_at, o.channel, o.user_id, o.product, o.quantity,
    o.amount, o.payment_method, o.status AS order_status,
    f.feedback_id, f.created_at AS feedback_created_at, f.rating, f.issue_type, f.issue_description,
    f.first_response_at, f.resolved_at, f.resolution, f.reopened, f.refund_amount,
    f.feedback_id IS NOT NULL AS has_feedback,
    f.feedback_id IS NOT NULL AND (coalesce(f.rating < 3, false) OR coalesce(f.issue_type IN ({{COMPLAINT_TYPES}}), false))
        AS is_problem
FROM o LEFT JOIN f ON f.order_id = o.order_id
WHERE o.business_date >= DATE '{{START}}' AND o.business_date < DATE '{{END}}';

-- 4. Problem issues located to causes: the first cause whose keywords appear in the text, else the first
--    cause listing the issue type, else the fallback; matched_causes lists every cause matched either way.
CREATE OR REPLACE TABLE after_sales.problem_orders AS
WITH p AS (
    SELECT *, lower(coalesce(issue_description, '')) AS t, lower(coalesce(issue_type, '')) AS k
    FROM after_sales.fct_order_feedback WHERE is_problem
), m AS (
    SELECT *, {{CAUSE_MATCH_COLUMNS}} FROM p
)
SELECT
    business_date, order_id, feedback_id, channel, amount, feedback_created_at, rating, issue_type, issue_description,
    coalesce(rating < 3, false) AS is_low_rating,
    coalesce(issue_type IN ({{COMPLAINT_TYPES}}), false) AS is_complaint,
    CASE {{CAUSE_FIRST_CASE}} ELSE '{{FALLBACK}}' END AS cause,
    coalesce(nullif(concat_ws(',', {{CAUSE_LIST_ITEMS}}), ''), '{{FALLBACK}}') AS matched_causes,
    resolved_at, reopened
FROM m;

-- 5. Work orders: one per problem order and matched cause.
CREATE OR REPLACE TABLE after_sales.work_orders AS
WITH e AS (
    SELECT p.*, unnest(string_split(matched_causes, ',')) AS wo_cause FROM after_sales.problem_orders p
), g AS (
    SELECT
        business_date, order_id, wo_cause AS cause,
        first(channel ORDER BY feedback_created_at, feedback_id) AS channel,
        string_agg(feedback_id, ',' ORDER BY feedback_created_at, feedback_id) AS feedback_ids,
        count(*) AS issue_count,
        min(rating) AS min_rating,
        min(feedback_created_at) AS opened_at,
        max(resolved_at) AS last_resolved,
        bool_or(resolved_at IS NULL) AS any_unresolved,
        bool_or(coalesce(reopened, false)) AS any_reopened,
        bool_or(coalesce(issue_type IN ({{P2_TYPES}}), false)) AS any_p2_type
    FROM e GROUP BY ALL
), pr AS (
    SELECT *,
        CASE WHEN coalesce(min_rating <= {{P1_MAX_RATING}}, false) OR cause IN ({{P1_CAUSES}}) THEN 'P1'
             WHEN coalesce(min_rating <= {{P2_MAX_RATING}}, false) OR any_p2_type THEN 'P2'
             ELSE 'P3' END AS priority
    FROM g
), s AS (
    SELECT *, CAST(CASE priority {{SLA_CASE}} END AS BIGINT) AS sla_hours FROM pr
)
SELECT
    'WO-' || upper(substr(sha1(order_id || '|' || cause), 1, 12)) AS work_order_id,
    business_date, order_id, channel, cause, feedback_ids, issue_count, min_rating,
    CASE cause {{FIRST_ACTION_CASE}} ELSE '{{OTHER_FIRST_ACTION}}' END AS suggested_action,
    CASE cause {{ACTIONS_CASE}} ELSE '{{OTHER_ACTIONS}}' END AS suggested_actions,
    priority, sla_hours,
    CASE WHEN any_unresolved THEN 'open' WHEN any_reopened THEN 'reopened' ELSE 'resolved' END AS status,
    opened_at,
    opened_at + to_hours(sla_hours) AS due_at,
    CASE WHEN any_unresolved THEN NULL ELSE last_resolved END AS resolved_at,
    CASE WHEN NOT any_unresolved THEN last_resolved > opened_at + to_hours(sla_hours)
         ELSE opened_at + to_hours(sla_hours) < TIMESTAMPTZ '{{AS_OF}}' END AS sla_breached
FROM s;

-- 6. Daily metrics (definitions in docs/metrics.md).
CREATE OR REPLACE TABLE after_sales.metrics_daily AS
WITH days AS (
    SELECT CAST(d AS DATE) AS business_date
    FROM range(DATE '{{START}}', DATE '{{END}}', INTERVAL 1 DAY) AS r(d)
), fact AS (
    SELECT business_date,
        count(DISTINCT order_id) AS orders,
        count(DISTINCT order_id) FILTER (WHERE has_feedback) AS orders_with_feedback,
        count(feedback_id) AS feedback_count,
        count(*) FILTER (WHERE has_feedback AND issue_type IS DISTINCT FROM 'review' AND resolved_at IS NOT NULL
                           AND first_response_at IS NOT NULL AND coalesce(resolution, '') <> 'rejected'
                           AND NOT coalesce(reopened, false)) AS effective_after_sales_count,
        count(*) FILTER (WHERE has_feedback AND issue_type IS DISTINCT FROM 'review' AND resolved_at IS NOT NULL)
            AS handled_tickets,
        avg((epoch(resolved_at) - epoch(feedback_created_at)) / 3600.0)
            FILTER (WHERE has_feedback AND issue_type IS DISTINCT FROM 'review' AND resolved_at IS NOT NULL)
            AS handling_time_hours_mean,
        median((epoch(resolved_at) - epoch(feedback_created_at)) / 3600.0)
            FILTER (WHERE has_feedback AND issue_type IS DISTINCT FROM 'review' AND resolved_at IS NOT NULL)
            AS handling_time_hours_median
    FROM after_sales.fct_order_feedback GROUP BY business_date
), prob AS (
    SELECT business_date, count(DISTINCT order_id) AS problem_orders FROM after_sales.problem_orders GROUP BY 1
), wo AS (
    SELECT business_date, count(*) AS work_orders FROM after_sales.work_orders GROUP BY 1
), s AS (
    SELECT * FROM after_sales.stg_behaviour
    QUALIFY row_number() OVER (PARTITION BY session_id ORDER BY landing_date DESC, source_file DESC, source_row DESC) = 1
), v AS (
    SELECT business_date,
        count(DISTINCT visitor_id) AS visitors,
        count(*) AS sessions,
        count(*) FILTER (WHERE submitted_after_sales_form) AS sessions_with_submission
    FROM s GROUP BY business_date
), trail AS (  -- mean over the 7 days before, of the days that have sessions
    SELECT days.business_date, avg(v.visitors) AS visitors_trailing_7d_mean
    FROM days LEFT JOIN v ON v.business_date BETWEEN days.business_date - 7 AND days.business_date - 1
    GROUP BY days.business_date
), vt AS (
    SELECT days.business_date, v.visitors, v.sessions, v.sessions_with_submission, trail.visitors_trailing_7d_mean
    FROM days LEFT JOIN v USING (business_date) LEFT JOIN trail USING (business_date)
)
SELECT
    days.business_date,
    coalesce(fact.orders, 0) AS orders,
    coalesce(fact.orders_with_feedback, 0) AS orders_with_feedback,
    coalesce(fact.feedback_count, 0) AS feedback_count,
    coalesce(prob.problem_orders, 0) AS problem_orders,
    CASE WHEN coalesce(fact.orders, 0) > 0 THEN coalesce(prob.problem_orders, 0) / fact.orders END AS complaint_rate,
    coalesce(vt.visitors, 0) AS visitors,
    vt.visitors_trailing_7d_mean,
    CASE WHEN vt.visitors_trailing_7d_mean > 0 THEN coalesce(vt.visitors, 0) / vt.visitors_trailing_7d_mean
    END AS rolling_visitor_rate,
    coalesce(vt.sessions, 0) AS sessions,
    coalesce(vt.sessions_with_submission, 0) AS sessions_with_submission,
    CASE WHEN coalesce(vt.sessions, 0) > 0 THEN coalesce(vt.sessions_with_submission, 0) / vt.sessions
    END AS submission_rate,
    coalesce(fact.effective_after_sales_count, 0) AS effective_after_sales_count,
    coalesce(fact.handled_tickets, 0) AS handled_tickets,
    fact.handling_time_hours_mean,
    fact.handling_time_hours_median,
    coalesce(wo.work_orders, 0) AS work_orders
FROM days
LEFT JOIN fact USING (business_date)
LEFT JOIN prob USING (business_date)
LEFT JOIN wo USING (business_date)
LEFT JOIN vt USING (business_date)
ORDER BY days.business_date;

-- 7. The helpdesk export: work orders as CSV files, one folder per business day.
COPY (SELECT * FROM after_sales.work_orders ORDER BY business_date, order_id, cause)
TO '{{EXPORT_DIR}}/work_orders' (FORMAT csv, HEADER, PARTITION_BY (business_date), OVERWRITE_OR_IGNORE);
