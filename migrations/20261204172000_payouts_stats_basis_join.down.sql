CREATE OR REPLACE FUNCTION payouts_stats_passes_basis() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cols text := CASE TG_TABLE_NAME WHEN 'assessment_sittings' THEN '%1$s.region_code, %1$s.kind, %1$s.class_id'
        WHEN 'classes' THEN '%1$s.plan_id' ELSE '%1$s.assessment' END;
    changed boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE (%s) IS DISTINCT FROM (%s))',
        format(cols, 'n'), format(cols, 'o')) INTO changed;
    IF changed THEN
        PERFORM payouts_stats_recount_passes();
    END IF;
    RETURN NULL;
END $$;
