DROP TRIGGER institutions_keep_workers ON institutions;
DROP FUNCTION institutions_keep_workers();
DROP TRIGGER organisations_keep_workers ON organisations;
DROP FUNCTION organisations_keep_workers();
DROP TRIGGER workers_after_insert ON workers;
DROP TRIGGER workers_after_update ON workers;
DROP FUNCTION workers_after_write();
DROP FUNCTION workers_check_org(bigint[], text);
ALTER TABLE workers ADD CONSTRAINT workers_college_org_id_fkey FOREIGN KEY (college_org_id) REFERENCES organisations (id),
    ADD CONSTRAINT workers_registered_by_org_id_fkey FOREIGN KEY (registered_by_org_id) REFERENCES organisations (id),
    ADD CONSTRAINT workers_employer_institution_id_fkey FOREIGN KEY (employer_institution_id) REFERENCES institutions (id);
CREATE OR REPLACE FUNCTION institutions_move_workers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workers SET updated_at = updated_at WHERE employer_institution_id = NEW.id;
    RETURN NULL;
END;
$$;
DROP TRIGGER workers_region_on_update ON workers;
DROP TRIGGER workers_region_on_insert ON workers;
CREATE TRIGGER workers_region BEFORE INSERT OR UPDATE ON workers
    FOR EACH ROW EXECUTE FUNCTION workers_set_region();
