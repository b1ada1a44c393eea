-- The events benchmark's input: staged orders and events written straight into a warehouse's stg_ tables
-- (staging is measured elsewhere; this scenario measures the behaviour SQL). Deterministic: every value is a hash
-- of the row's day and number. Parameters: $start (first day), $days, $orders_per_day, $events_per_day.
-- Mix of event types per 10,000 events: page_view 5500, click 2000, add_to_cart 500, search 600,
-- checkout_start 300, payment_attempt 250, payment_result 300 (30 % failures), order_track_view 300,
-- address_change 50, return_start 50, return_step 80, return_submit 20, contact_service 30, form_submit 20.
-- Orders concerned: payments and checkouts today's orders; tracking the orders of the last 10 days (so some
-- views are after the promised 3 days); returns a small pool of 2,000 orders of 5 days before (so a subject has
-- several return events). 40 % of visitors are logged in (their searches are attributed to their latest order).
-- 0.1 % of the events are landed again the next day (a re-export: the latest landing counts once).
INSERT INTO after_sales.stg_orders
SELECT
    'O' || d || '-' || i AS order_id,
    created_at,
    CAST(timezone($tz, created_at) AS DATE) AS business_date,
    'U' || (hash(d, i, 'user') % 200000) AS user_id,
    'product' AS product,
    1 AS quantity,
    99.0 AS amount,
    'alipay' AS payment_method,
    'paid' AS status,
    'paid' AS status_raw,
    'web' AS channel,
    CAST(timezone($tz, created_at) AS DATE) AS landing_date,
    'orders' AS source,
    'orders_' || d || '.csv' AS source_file,
    i + 2 AS source_row
FROM (
    SELECT d, i, timezone($tz, CAST(CAST($start AS DATE) + CAST(d AS INTEGER) AS TIMESTAMP)) + to_microseconds(CAST(hash(d, i, 't') % 86400000000 AS BIGINT))
        AS created_at
    FROM range(0, $days) AS dd(d), range(0, $orders_per_day) AS ii(i)
);

CREATE TEMP TABLE gen AS
SELECT
    d, i,
    CAST(hash(d, i, 'kind') % 10000 AS BIGINT) AS k,
    CAST(hash(d, i, 'visitor') % 300000 AS BIGINT) AS v,
    CAST(hash(d, i, 'pick') // 2 AS BIGINT) AS h,
    timezone($tz, CAST(CAST($start AS DATE) + CAST(d AS INTEGER) AS TIMESTAMP)) + to_microseconds(CAST(hash(d, i, 'at') % 86400000000 AS BIGINT))
        AS occurred_at
FROM range(0, $days) AS dd(d), range(0, $events_per_day) AS ii(i);

CREATE TEMP TABLE typed AS
SELECT
    *,
    CASE
        WHEN k < 5500 THEN 'page_view' WHEN k < 7500 THEN 'click' WHEN k < 8000 THEN 'add_to_cart'
        WHEN k < 8600 THEN 'search' WHEN k < 8900 THEN 'checkout_start' WHEN k < 9150 THEN 'payment_attempt'
        WHEN k < 9450 THEN 'payment_result' WHEN k < 9750 THEN 'order_track_view' WHEN k < 9800 THEN 'address_change'
        WHEN k < 9850 THEN 'return_start' WHEN k < 9930 THEN 'return_step' WHEN k < 9950 THEN 'return_submit'
        WHEN k < 9980 THEN 'contact_service' ELSE 'form_submit'
    END AS event_type,
    v % 10 < 4 AS logged_in
FROM gen;

CREATE TEMP TABLE ev AS
SELECT
    'E' || d || '-' || i AS event_id,
    'S' || v || '-' || d AS session_id,
    'V' || v AS visitor_id,
    CASE WHEN logged_in THEN 'U' || (v % 200000) END AS user_id,
    CASE
        WHEN event_type IN ('checkout_start', 'payment_attempt', 'payment_result')
            THEN 'O' || d || '-' || (h % $orders_per_day)
        WHEN event_type IN ('order_track_view', 'address_change')
            THEN 'O' || greatest(d - (h % 10), 0) || '-' || (h % $orders_per_day)
        WHEN event_type LIKE 'return%'
            THEN 'O' || greatest(d - 5, 0) || '-' || (h % 2000)
    END AS order_id,
    occurred_at,
    CAST(timezone($tz, occurred_at) AS DATE) AS business_date,
    event_type,
    CASE
        WHEN event_type = 'return_step' THEN 'return_step_' || (1 + h % 4)
        WHEN event_type = 'search' THEN 'search'
        ELSE 'page_' || (h % 50)
    END AS page,
    CASE WHEN event_type = 'search' THEN
        ['怎么付款', '支付方式', '快递到哪了', '物流查询', '退货流程', '怎么退货', '连衣裙', '手机壳', '运动鞋',
         '蓝牙耳机', '批发货品', '儿童玩具', '夏季新款', '面膜', '保温杯', 'xyzzy 123'][CAST(1 + h % 16 AS BIGINT)]
    END AS search_query,
    CASE
        WHEN event_type = 'payment_result' THEN CASE WHEN h % 10 < 3 THEN 'failure' ELSE 'success' END
        WHEN event_type = 'search' THEN CAST(h % 7 AS VARCHAR)
    END AS result,
    CASE WHEN event_type = 'search' THEN CAST(h % 7 AS BIGINT) END AS result_count,
    CASE WHEN event_type = 'payment_result' AND h % 10 < 3
        THEN ['card_declined', 'insufficient_funds', 'timeout', 'risk_control'][CAST(1 + (h // 10) % 4 AS BIGINT)]
    END AS reason_code,
    CAST(timezone($tz, occurred_at) AS DATE) AS landing_date,
    'events' AS source,
    'events_' || d || '.csv' AS source_file,
    i + 2 AS source_row
FROM typed;

INSERT INTO after_sales.stg_events SELECT * FROM ev;

INSERT INTO after_sales.stg_events
SELECT * REPLACE (landing_date + 1 AS landing_date, source_file || '.again' AS source_file)
FROM ev
WHERE hash(event_id, 'again') % 1000 = 0
