-- grain: one row per issue, in the input's order; inputs: located (causes.sql); window: none.
SELECT cause, matched_causes FROM located ORDER BY _pos
