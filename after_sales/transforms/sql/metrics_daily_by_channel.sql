-- grain: one row per business date and channel with orders; inputs: fact, service_measures (service_measures.sql,
-- member channel), refused (quarantine_files rows: landing_date, source); window: the fact's business dates.
-- files_refused: refused files landed D .. D + $late_days of the channel's sources: $channel_sources of the
-- channel's place in $source_channels (a marketplace channel), else $own_sources.
CREATE OR REPLACE TEMP TABLE by_channel_sums AS
WITH pairs AS (
    SELECT DISTINCT business_date, channel FROM fact
), fed AS (
    SELECT *, coalesce(
        CAST($channel_sources AS VARCHAR[][])[list_position(CAST($source_channels AS VARCHAR[]), channel)],
        CAST($own_sources AS VARCHAR[])
    ) AS sources
    FROM pairs
), refused_pairs AS (
    SELECT f.business_date, f.channel, count(r.landing_date) AS files_refused
    FROM fed f LEFT JOIN refused r
        ON r.landing_date BETWEEN f.business_date AND f.business_date + CAST($late_days AS INTEGER)
        AND list_contains(f.sources, r.source)
    GROUP BY ALL
)
SELECT p.business_date, p.channel, m.* EXCLUDE (business_date, member), r.files_refused, r.files_refused = 0 AS complete
FROM pairs p
LEFT JOIN service_measures m ON m.business_date = p.business_date AND m.member = p.channel
LEFT JOIN refused_pairs r ON r.business_date = p.business_date AND r.channel = p.channel
