-- The places counts of classes (enrolled_count, waitlisted_count) are kept
-- by statement-level triggers with transition tables instead of a plpgsql
-- call and an UPDATE of the class per enrolment row: a statement that
-- writes many enrolments (a roster's enrolment links, the scale seed's
-- millions) updates each class it touched once, with the sum of its
-- changes. The counts and the capacity check (classes_capacity_held) are
-- the same at the end of every statement as before.
DROP TRIGGER enrolments_count ON enrolments;
DROP FUNCTION enrolments_count();

CREATE FUNCTION enrolments_count_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE classes AS c
           SET enrolled_count = c.enrolled_count + d.taken, waitlisted_count = c.waitlisted_count + d.waiting
          FROM (SELECT class_id, count(*) FILTER (WHERE status IN ('enrolled', 'completed')) AS taken,
                       count(*) FILTER (WHERE status = 'waitlisted') AS waiting
                  FROM new_rows GROUP BY class_id) AS d
         WHERE c.id = d.class_id AND (d.taken <> 0 OR d.waiting <> 0);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE classes AS c
           SET enrolled_count = c.enrolled_count - d.taken, waitlisted_count = c.waitlisted_count - d.waiting
          FROM (SELECT class_id, count(*) FILTER (WHERE status IN ('enrolled', 'completed')) AS taken,
                       count(*) FILTER (WHERE status = 'waitlisted') AS waiting
                  FROM old_rows GROUP BY class_id) AS d
         WHERE c.id = d.class_id AND (d.taken <> 0 OR d.waiting <> 0);
    ELSE
        -- Rows whose status did not change cancel out; only classes with
        -- a net change are written.
        UPDATE classes AS c
           SET enrolled_count = c.enrolled_count + d.taken, waitlisted_count = c.waitlisted_count + d.waiting
          FROM (SELECT class_id, sum(taken) AS taken, sum(waiting) AS waiting
                  FROM (SELECT class_id, (status IN ('enrolled', 'completed'))::int AS taken,
                               (status = 'waitlisted')::int AS waiting FROM new_rows
                        UNION ALL
                        SELECT class_id, -(status IN ('enrolled', 'completed'))::int,
                               -(status = 'waitlisted')::int FROM old_rows) AS x
                 GROUP BY class_id) AS d
         WHERE c.id = d.class_id AND (d.taken <> 0 OR d.waiting <> 0);
    END IF;
    RETURN NULL;
END $$;

-- A trigger with transition tables serves one event, hence three.
CREATE TRIGGER enrolments_count_insert AFTER INSERT ON enrolments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION enrolments_count_rows();
CREATE TRIGGER enrolments_count_update AFTER UPDATE ON enrolments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION enrolments_count_rows();
CREATE TRIGGER enrolments_count_delete AFTER DELETE ON enrolments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION enrolments_count_rows();
