-- The rollup's back-fill as a function: a bulk load that switches the
-- triggers off (the scale seed, session_replication_role = replica) calls
-- it afterwards, so the overview stays equal to a fresh count.
CREATE FUNCTION payouts_stats_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    tbl text;
BEGIN
    LOCK TABLE payouts_stats_monthly IN EXCLUSIVE MODE;
    DELETE FROM payouts_stats_monthly;
    FOREACH tbl IN ARRAY ARRAY['claims', 'certificates', 'enrolments', 'payout_batch_items'] LOOP
        EXECUTE payouts_stats_fold(format('SELECT 1 AS sign, * FROM %I', tbl), payouts_stats_contrib(tbl));
    END LOOP;
    PERFORM payouts_stats_recount_passes();
END $$;
