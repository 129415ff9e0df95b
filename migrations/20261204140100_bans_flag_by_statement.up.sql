-- The ban flag of a new worker (a person banned before they were
-- registered starts banned, whoever writes them) was a plpgsql BEFORE INSERT
-- row trigger: one look-up in bans per row. Now one AFTER INSERT statement
-- trigger compares the statement's new rows with the active bans in one
-- join and corrects only the rows whose flag is wrong (none, normally).
DROP TRIGGER workers_banned_on_insert ON workers;
DROP FUNCTION workers_banned_on_insert();

CREATE FUNCTION workers_flag_banned_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    flags boolean[];
BEGIN
    SELECT array_agg(d.id), array_agg(d.should) INTO ids, flags
      FROM (SELECT n.id, n.banned, b.id_number_idx IS NOT NULL AS should
              FROM new_rows AS n
              LEFT JOIN (SELECT DISTINCT id_number_idx FROM bans WHERE lifted_at IS NULL) AS b
                ON b.id_number_idx = n.id_number_idx) AS d
     WHERE d.banned <> d.should;
    IF ids IS NOT NULL THEN
        UPDATE workers AS w SET banned = f.banned
          FROM unnest(ids, flags) AS f (id, banned) WHERE w.id = f.id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER workers_banned_on_insert AFTER INSERT ON workers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION workers_flag_banned_rows();
