-- grain: none (macros the metric and roll-up models share); inputs: none; window: none.
-- hours_between: hours from a to b as a double (microseconds / 1e6 / 3600), null when either is missing.
CREATE OR REPLACE TEMP MACRO hours_between(a, b) AS (epoch_us(b) - epoch_us(a)) / 1e6 / 3600
