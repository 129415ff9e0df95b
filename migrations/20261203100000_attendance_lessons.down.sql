-- Back to totals: the sum of each enrolment's lessons per course. The
-- lesson dates and corrections are lost (their audit events remain).
CREATE TABLE attendance (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enrolment_id bigint NOT NULL REFERENCES enrolments (id),
    course_id    bigint NOT NULL REFERENCES courses (id),
    hours        numeric(5,1) NOT NULL CHECK (hours >= 0),
    recorded_by  bigint REFERENCES users (id),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attendance_once UNIQUE (enrolment_id, course_id)
);

CREATE TABLE attendance_changes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    attendance_id bigint NOT NULL REFERENCES attendance (id),
    old_hours     numeric(5,1),
    new_hours     numeric(5,1) NOT NULL,
    reason        text NOT NULL DEFAULT '',
    source        text NOT NULL CHECK (source IN ('form', 'csv')),
    changed_by    bigint REFERENCES users (id),
    changed_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attendance_changes_reason CHECK (old_hours IS NULL OR reason <> '')
);
CREATE INDEX attendance_changes_attendance_idx ON attendance_changes (attendance_id);

-- Totals over the lessons may exceed a course's hours (over-attendance);
-- the old trigger is restored after the copy, so it guards new writes only.
INSERT INTO attendance (enrolment_id, course_id, hours)
SELECT a.enrolment_id, l.course_id, sum(l.hours)
  FROM lesson_attendees a JOIN lessons l ON l.id = a.lesson_id
 GROUP BY a.enrolment_id, l.course_id;

CREATE FUNCTION attendance_within_course() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.hours > (SELECT theory_hours + practice_hours FROM courses WHERE id = NEW.course_id) THEN
        RAISE EXCEPTION 'attendance % hours above the hours of course %', NEW.hours, NEW.course_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'attendance_within_course';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER attendance_within_course BEFORE INSERT OR UPDATE ON attendance
    FOR EACH ROW EXECUTE FUNCTION attendance_within_course();

DROP TRIGGER lesson_day_limit ON lesson_attendees;
DROP FUNCTION lesson_day_limit();
DROP TABLE lesson_changes;
DROP TABLE lesson_attendees;
DROP TABLE lessons;
