-- grain: one row per rejected row (_pos) of one landed file, with its rule; inputs: landed (the file's text
-- columns as c0 .. cn, _id: its id column, _alive: no earlier rule rejected the row, _blank_id: the id is missing
-- or only whitespace, _pos: the row's position); window: one file.
-- duplicate_row: a live row equal in every text column to an earlier row (null equals null but not '').
-- duplicate_id: then, a live row whose id (exact text, not blank) an earlier live row has.
WITH copies AS (
    SELECT _pos, _id, _blank_id,
        _alive AND row_number() OVER (PARTITION BY row(*COLUMNS('^c\d+$')) ORDER BY _pos) > 1 AS is_copy,
        _alive AND NOT is_copy AS live
    FROM landed
), ids AS (
    SELECT *, row_number() OVER (PARTITION BY CASE WHEN live AND NOT _blank_id THEN _id END ORDER BY _pos) AS nth
    FROM copies
)
SELECT _pos, CASE WHEN is_copy THEN 'duplicate_row' ELSE 'duplicate_id' END AS rule
FROM ids
WHERE is_copy OR (live AND _id IS NOT NULL AND nth > 1)
ORDER BY _pos
