-- Whether a statement changed what passes rest on, read with an aggregate
-- over a join of the transition tables instead of EXISTS: EXISTS is planned
-- for its first row, a nested loop over two tables without statistics, and
-- when nothing changed (the usual case: place counts, states) it compared
-- every old row with every new one. 8 357 classes updated at once took
-- 4.7 s in this trigger; 150 000 (the scale seed's place counts) half an
-- hour. The aggregate gets a merge or hash join.
CREATE OR REPLACE FUNCTION payouts_stats_passes_basis() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cols text := CASE TG_TABLE_NAME WHEN 'assessment_sittings' THEN '%1$s.region_code, %1$s.kind, %1$s.class_id'
        WHEN 'classes' THEN '%1$s.plan_id' ELSE '%1$s.assessment' END;
    changed boolean;
BEGIN
    EXECUTE format('SELECT coalesce(bool_or((%s) IS DISTINCT FROM (%s)), false) FROM new_rows n JOIN old_rows o ON o.id = n.id',
        format(cols, 'n'), format(cols, 'o')) INTO changed;
    IF changed THEN
        PERFORM payouts_stats_recount_passes();
    END IF;
    RETURN NULL;
END $$;
