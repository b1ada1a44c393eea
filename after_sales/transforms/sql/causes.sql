-- grain: one row per issue (_pos) of the input; inputs: issues (_pos, issue_type, issue_description) and the
-- YAML rule table as lists in rule order: $causes, $cause_types, $cause_keywords (lower-cased); window: none.
-- cause: the first rule with a keyword in the lower-cased description, else the first listing the lower-cased
-- issue type, else $fallback. matched_causes: every rule matched either way, comma-separated in rule order.
-- Keywords are literal text: a substring test is what the YAML's escaped keyword alternation means.
CREATE OR REPLACE TEMP TABLE located AS
WITH cause_rules AS (
    SELECT
        unnest(CAST($causes AS VARCHAR[])) AS cause,
        unnest(CAST($cause_types AS VARCHAR[][])) AS issue_types,
        unnest(CAST($cause_keywords AS VARCHAR[][])) AS keywords,
        generate_subscripts(CAST($causes AS VARCHAR[]), 1) AS pos
), i AS (
    SELECT _pos, lower(coalesce(issue_description, '')) AS t, lower(coalesce(issue_type, '')) AS k FROM issues
), m AS (
    SELECT i._pos, r.pos, r.cause,
        len(list_filter(r.keywords, lambda w: contains(i.t, w))) > 0 AS by_word,
        coalesce(list_contains(r.issue_types, i.k), false) AS by_type
    FROM i LEFT JOIN cause_rules r ON true
)
SELECT
    _pos,
    coalesce(arg_min(cause, pos) FILTER (WHERE by_word), arg_min(cause, pos) FILTER (WHERE by_type), $fallback)
        AS cause,
    coalesce(string_agg(cause, ',' ORDER BY pos) FILTER (WHERE by_word OR by_type), $fallback) AS matched_causes
FROM m
GROUP BY _pos
