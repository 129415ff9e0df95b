DROP TRIGGER enrolments_count_delete ON enrolments;
DROP TRIGGER enrolments_count_update ON enrolments;
DROP TRIGGER enrolments_count_insert ON enrolments;
DROP FUNCTION enrolments_count_rows();

CREATE FUNCTION enrolments_count() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    taken_delta integer := 0;
    waiting_delta integer := 0;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        taken_delta := taken_delta - (OLD.status IN ('enrolled', 'completed'))::int;
        waiting_delta := waiting_delta - (OLD.status = 'waitlisted')::int;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        taken_delta := taken_delta + (NEW.status IN ('enrolled', 'completed'))::int;
        waiting_delta := waiting_delta + (NEW.status = 'waitlisted')::int;
    END IF;
    IF taken_delta <> 0 OR waiting_delta <> 0 THEN
        UPDATE classes SET enrolled_count = enrolled_count + taken_delta,
                           waitlisted_count = waitlisted_count + waiting_delta
         WHERE id = COALESCE(NEW.class_id, OLD.class_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER enrolments_count AFTER INSERT OR UPDATE OF status OR DELETE ON enrolments
    FOR EACH ROW EXECUTE FUNCTION enrolments_count();
