-- grain: one row per rejected row (_pos) of one landed file, with its rule; inputs: landed (the file's text
-- columns as c0 .. cn, _id: its id column, _alive: no earlier rule rejected the row, _blank_id: the id is missing
-- or only whitespace, _pos: the row's position); window: one file.
-- duplicate_row: a live row equal in every text column to an earlier row (null equals null but not '').
-- duplicate_id: then, a live row whose id (exact text, not blank) an earlier live row has; rows without such a key
-- share the null key (callers reject blank ids before, so no live row is among them).
WITH shared AS (
    -- A copy has the id of the row it copies: only the rows of a repeated id (missing ones too) are compared.
    SELECT l._pos, row(*COLUMNS('^c\d+$')) AS data FROM landed l
    SEMI JOIN (SELECT _id FROM landed GROUP BY _id HAVING count(*) > 1) r ON r._id IS NOT DISTINCT FROM l._id
), copies AS (
    SELECT s._pos
    FROM shared s
    JOIN (SELECT data, min(_pos) AS first FROM shared GROUP BY data) f ON f.data IS NOT DISTINCT FROM s.data
    WHERE s._pos > f.first
), marked AS (
    SELECT l._pos, l._id, l._alive AND c._pos IS NOT NULL AS is_copy,
        CASE WHEN l._alive AND c._pos IS NULL AND NOT l._blank_id THEN l._id END AS key,
        l._alive AND c._pos IS NULL AS live
    FROM landed l LEFT JOIN copies c USING (_pos)
)
SELECT m._pos, CASE WHEN m.is_copy THEN 'duplicate_row' ELSE 'duplicate_id' END AS rule
FROM marked m JOIN (SELECT key, min(_pos) AS first FROM marked GROUP BY key) f ON f.key IS NOT DISTINCT FROM m.key
WHERE m.is_copy OR (m.live AND m._id IS NOT NULL AND m._pos > f.first)
ORDER BY m._pos
