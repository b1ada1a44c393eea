-- grain: one row per staged row (_pos) whose (landing_date, id) an earlier row already has, with that first row's
-- source_file and source_row; inputs: staged (landing_date, source_file, source_row, _id: the id column, the
-- non-lineage columns as c0 .. cn, _pos: file order then row order); window: the rows' landing days.
-- Nothing when the rows come from fewer than two source files. duplicate_row: equal in every non-lineage column
-- to any earlier row (null equals null); otherwise duplicate_id. Sorted by _pos.
WITH keyed AS (
    SELECT _pos, _id,
        row_number() OVER by_key > 1 AS repeated,
        first_value(source_file) OVER by_key AS first_file,
        first_value(source_row) OVER by_key AS first_row
    FROM staged
    WINDOW by_key AS (PARTITION BY landing_date, _id ORDER BY _pos)
), shared AS (
    -- A copy has the id of the row it copies: only the rows of a repeated id are compared.
    SELECT * FROM staged s WHERE EXISTS (SELECT 1 FROM keyed k WHERE k.repeated AND k._id IS NOT DISTINCT FROM s._id)
), copies AS (
    SELECT _pos, row_number() OVER (PARTITION BY row(*COLUMNS('^c\d+$')) ORDER BY _pos) > 1 AS is_copy
    FROM shared
)
SELECT k._pos, CASE WHEN c.is_copy THEN 'duplicate_row' ELSE 'duplicate_id' END AS rule, k.first_file, k.first_row
FROM keyed k LEFT JOIN copies c USING (_pos)
WHERE k.repeated AND (SELECT count(DISTINCT source_file) FROM staged) > 1
ORDER BY k._pos
