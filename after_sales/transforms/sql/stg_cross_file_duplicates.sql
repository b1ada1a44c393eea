-- grain: one row per staged row (_pos) whose (landing_date, id) an earlier row already has, with that first row's
-- source_file and source_row; inputs: staged (landing_date, source_file, source_row, _id: the id column, the
-- non-lineage columns as c0 .. cn, _pos: file order then row order); window: the rows' landing days.
-- Nothing when the rows come from fewer than two source files. duplicate_row: equal in every non-lineage column
-- to any earlier row (null equals null); otherwise duplicate_id. Sorted by _pos.
WITH ranked AS (
    SELECT _pos,
        row_number() OVER (PARTITION BY row(*COLUMNS('^c\d+$')) ORDER BY _pos) > 1 AS is_copy,
        row_number() OVER by_key > 1 AS repeated,
        first_value(source_file) OVER by_key AS first_file,
        first_value(source_row) OVER by_key AS first_row
    FROM staged
    WINDOW by_key AS (PARTITION BY landing_date, _id ORDER BY _pos)
)
SELECT _pos, CASE WHEN is_copy THEN 'duplicate_row' ELSE 'duplicate_id' END AS rule, first_file, first_row
FROM ranked
WHERE repeated AND (SELECT count(DISTINCT source_file) FROM staged) > 1
ORDER BY _pos
