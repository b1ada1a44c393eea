-- grain: one row per day D and signal rule, plus rule 'all' (any rule)
-- inputs: signals (behaviour_signals rows), complaints (feedback_id, order_id, created_at, cause: own feedback rated
--         below 3 or not a review, located to a cause), rules (rule, cause), days (business_date)
-- window: precision: the signals detected on D, confirmed by a complaint on the order in the $window_days days after
--         detected_at; recall: the complaints created on D, anticipated by a signal on the order detected in the
--         $window_days days before the complaint; lead time from the earliest such signal
WITH s AS (
    SELECT signal_date, rule, subject_id, order_id, detected_at FROM signals
    UNION ALL
    -- 'all': each subject flagged by any rule counts once a day, at its earliest signal
    SELECT signal_date, 'all', subject_id, any_value(order_id), min(detected_at) FROM signals GROUP BY ALL
),
r AS (
    SELECT rule, cause FROM rules
    UNION ALL
    SELECT 'all', 'all'
),
c AS (
    SELECT *, CAST(timezone($tz, created_at) AS DATE) AS complaint_date
    FROM complaints
    WHERE cause IN (SELECT cause FROM rules)
),
confirmed AS (
    SELECT s.signal_date, s.rule, s.subject_id,
           bool_or(c.feedback_id IS NOT NULL) AS confirmed
    FROM s
    LEFT JOIN c
      ON c.order_id = s.order_id
     AND c.created_at > s.detected_at
     AND c.created_at <= s.detected_at + to_days(CAST($window_days AS INTEGER))
    GROUP BY ALL
),
precision_part AS (
    SELECT signal_date AS business_date, rule, count(*) AS signals,
           count(*) FILTER (WHERE subject_id NOT LIKE 'visitor:%') AS signals_with_order,
           count(*) FILTER (WHERE confirmed) AS confirmed_signals
    FROM confirmed
    GROUP BY ALL
),
anticipated AS (
    SELECT c.complaint_date, r.rule, c.feedback_id,
           min(s.detected_at) AS first_signal_at, any_value(c.created_at) AS created_at
    FROM c
    JOIN r ON r.cause = c.cause OR r.rule = 'all'
    LEFT JOIN s
      ON s.rule = r.rule
     AND s.order_id = c.order_id
     AND s.detected_at < c.created_at
     AND s.detected_at >= c.created_at - to_days(CAST($window_days AS INTEGER))
    GROUP BY ALL
),
recall_part AS (
    SELECT complaint_date AS business_date, rule, count(*) AS complaints,
           count(first_signal_at) AS anticipated_complaints,
           avg(epoch(created_at - first_signal_at) / 3600.0) AS lead_hours_mean,
           median(epoch(created_at - first_signal_at) / 3600.0) AS lead_hours_median
    FROM anticipated
    GROUP BY ALL
)
SELECT
    d.business_date,
    r.rule,
    r.cause,
    coalesce(p.signals, 0) AS signals,
    coalesce(p.signals_with_order, 0) AS signals_with_order,
    coalesce(p.confirmed_signals, 0) AS confirmed_signals,
    p.confirmed_signals / nullif(p.signals, 0) AS precision,
    coalesce(k.complaints, 0) AS complaints,
    coalesce(k.anticipated_complaints, 0) AS anticipated_complaints,
    k.anticipated_complaints / nullif(k.complaints, 0) AS recall,
    k.lead_hours_mean,
    k.lead_hours_median,
    d.business_date + CAST($window_days AS INTEGER) <= $complaints_seen_through AS window_closed
FROM days AS d
CROSS JOIN r
LEFT JOIN precision_part AS p ON p.business_date = d.business_date AND p.rule = r.rule
LEFT JOIN recall_part AS k ON k.business_date = d.business_date AND k.rule = r.rule
ORDER BY d.business_date, r.rule
