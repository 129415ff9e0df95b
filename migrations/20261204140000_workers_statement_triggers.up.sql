-- A roster commit of 100 000 new workers spent most of its time in per-row
-- work: the plpgsql region trigger (up to three look-ups a row) and two
-- foreign-key checks a row (college, registering organisation), each an
-- SPI query. The same guarantees now hold per statement, with transition
-- tables: one set-based pass over the statement's new rows.
--
-- Region (DESIGN §3: the employer's region, else the college's, else the ID
-- number's area code when in Hubei). On INSERT, writers that know it (the
-- bulk writes) put it in the row and no per-row function runs; a writer
-- that leaves it out (a form, one row) still gets it from the row trigger,
-- whose WHEN is checked without calling plpgsql. An AFTER INSERT statement
-- trigger derives the region of all the statement's rows in one join and
-- corrects every row that differs, so a wrong region cannot be written
-- either. On UPDATE the row trigger runs only when an input of the rule or
-- the region itself changes (most updates touch neither); a region written
-- by the correcting triggers themselves (depth > 0) is the rule's already.
DROP TRIGGER workers_region ON workers;
CREATE TRIGGER workers_region_on_insert BEFORE INSERT ON workers FOR EACH ROW
    WHEN (NEW.region_code IS NULL)
    EXECUTE FUNCTION workers_set_region();
CREATE TRIGGER workers_region_on_update BEFORE UPDATE ON workers FOR EACH ROW
    WHEN (OLD.employer_institution_id IS DISTINCT FROM NEW.employer_institution_id
       OR OLD.college_org_id IS DISTINCT FROM NEW.college_org_id
       OR OLD.id_area_code IS DISTINCT FROM NEW.id_area_code
       OR (OLD.region_code IS DISTINCT FROM NEW.region_code AND pg_trigger_depth() = 0))
    EXECUTE FUNCTION workers_set_region();

-- An institution that moves now writes the new region itself (the
-- employer's region wins the rule): touching updated_at no longer fires the
-- region trigger.
CREATE OR REPLACE FUNCTION institutions_move_workers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workers SET region_code = NEW.region_code WHERE employer_institution_id = NEW.id;
    RETURN NULL;
END;
$$;

-- The college, the registering organisation and the employer were foreign
-- keys: a trigger call per row and key (even for a NULL employer), a
-- look-up for each value. The statement trigger below checks the distinct
-- organisations and institutions a statement names (one college for a
-- roster) and takes the same KEY SHARE lock a foreign key takes, so a
-- concurrent delete waits for the writer; organisations_keep_workers and
-- institutions_keep_workers refuse deleting one that workers still name.
-- Violations keep the foreign keys' SQLSTATE (23503) and constraint names.
ALTER TABLE workers DROP CONSTRAINT workers_college_org_id_fkey,
    DROP CONSTRAINT workers_registered_by_org_id_fkey,
    DROP CONSTRAINT workers_employer_institution_id_fkey;

CREATE FUNCTION workers_check_org(refs bigint[], constraint_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    found integer;
BEGIN
    IF refs IS NULL THEN
        RETURN;
    END IF;
    IF constraint_name = 'workers_employer_institution_id_fkey' THEN
        SELECT count(*) INTO found FROM (SELECT 1 FROM institutions WHERE id = ANY (refs) FOR KEY SHARE) AS i;
    ELSE
        SELECT count(*) INTO found FROM (SELECT 1 FROM organisations WHERE id = ANY (refs) FOR KEY SHARE) AS o;
    END IF;
    IF found < cardinality(refs) THEN
        RAISE EXCEPTION 'insert or update on table "workers" violates foreign key constraint "%"', constraint_name
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = constraint_name, TABLE = 'workers';
    END IF;
END;
$$;

CREATE FUNCTION workers_after_write() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    colleges bigint[];
    registrars bigint[];
    employers bigint[];
    ids bigint[];
    regions text[];
BEGIN
    SELECT array_agg(DISTINCT college_org_id) FILTER (WHERE college_org_id IS NOT NULL),
           array_agg(DISTINCT registered_by_org_id) FILTER (WHERE registered_by_org_id IS NOT NULL),
           array_agg(DISTINCT employer_institution_id) FILTER (WHERE employer_institution_id IS NOT NULL)
      INTO colleges, registrars, employers FROM new_rows;
    PERFORM workers_check_org(colleges, 'workers_college_org_id_fkey');
    PERFORM workers_check_org(registrars, 'workers_registered_by_org_id_fkey');
    PERFORM workers_check_org(employers, 'workers_employer_institution_id_fkey');
    IF TG_OP = 'UPDATE' THEN
        RETURN NULL; -- the region of an updated row is the row trigger's
    END IF;
    -- Only rows whose region differs from the rule are written again.
    SELECT array_agg(d.id), array_agg(d.region) INTO ids, regions
      FROM (SELECT n.id, n.region_code,
                   COALESCE(i.region_code, o.region_code,
                            CASE WHEN n.id_area_code LIKE '42%' THEN n.id_area_code END) AS region
              FROM new_rows AS n
              LEFT JOIN institutions AS i ON i.id = n.employer_institution_id
              LEFT JOIN organisations AS o ON o.id = n.college_org_id) AS d
     WHERE d.region IS DISTINCT FROM d.region_code;
    IF ids IS NOT NULL THEN
        UPDATE workers AS w SET region_code = f.region
          FROM unnest(ids, regions) AS f (id, region) WHERE w.id = f.id;
    END IF;
    RETURN NULL;
END;
$$;

-- A trigger with transition tables serves one event, hence two.
CREATE TRIGGER workers_after_insert AFTER INSERT ON workers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION workers_after_write();
CREATE TRIGGER workers_after_update AFTER UPDATE ON workers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION workers_after_write();

CREATE FUNCTION organisations_keep_workers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM workers WHERE college_org_id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "organisations" violates foreign key constraint "workers_college_org_id_fkey" on table "workers"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'workers_college_org_id_fkey', TABLE = 'workers';
    END IF;
    IF EXISTS (SELECT 1 FROM workers WHERE registered_by_org_id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "organisations" violates foreign key constraint "workers_registered_by_org_id_fkey" on table "workers"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'workers_registered_by_org_id_fkey', TABLE = 'workers';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER organisations_keep_workers BEFORE DELETE ON organisations
    FOR EACH ROW EXECUTE FUNCTION organisations_keep_workers();

CREATE FUNCTION institutions_keep_workers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM workers WHERE employer_institution_id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "institutions" violates foreign key constraint "workers_employer_institution_id_fkey" on table "workers"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'workers_employer_institution_id_fkey', TABLE = 'workers';
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER institutions_keep_workers BEFORE DELETE ON institutions
    FOR EACH ROW EXECUTE FUNCTION institutions_keep_workers();
