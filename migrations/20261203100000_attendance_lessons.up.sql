-- Attendance by lesson (签到): a worker's hours in a course are the sum of
-- the lessons of that course they attended, not a total someone edits.
CREATE TABLE lessons (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    class_id     bigint NOT NULL REFERENCES classes (id),
    course_id    bigint NOT NULL REFERENCES courses (id),
    held_on      date NOT NULL,
    hours        numeric(5,1) NOT NULL,
    -- a total recorded before lessons existed, kept as one lesson dated the
    -- class's last day so nobody's progress changed
    carried_over boolean NOT NULL DEFAULT false,
    source       text NOT NULL CHECK (source IN ('form', 'sheet', 'carried_over')),
    created_by   bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT lessons_hours CHECK (hours > 0 AND
        (carried_over OR (hours <= 8 AND hours * 2 = trunc(hours * 2)))),
    CONSTRAINT lessons_carried_source CHECK (carried_over = (source = 'carried_over'))
);
-- One lesson of a course a day: a sign-in sheet uploaded twice cannot
-- count its hours twice.
CREATE UNIQUE INDEX lessons_once_a_day ON lessons (class_id, course_id, held_on) WHERE NOT carried_over;
CREATE INDEX lessons_class_idx ON lessons (class_id, held_on);

CREATE TABLE lesson_attendees (
    lesson_id    bigint NOT NULL REFERENCES lessons (id),
    enrolment_id bigint NOT NULL REFERENCES enrolments (id),
    PRIMARY KEY (lesson_id, enrolment_id)
);
CREATE INDEX lesson_attendees_enrolment_idx ON lesson_attendees (enrolment_id);

-- Corrections of a lesson's attendance, each with who and why.
CREATE TABLE lesson_changes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lesson_id    bigint NOT NULL REFERENCES lessons (id),
    enrolment_id bigint NOT NULL REFERENCES enrolments (id),
    change       text NOT NULL CHECK (change IN ('added', 'removed')),
    reason       text NOT NULL CHECK (reason <> ''),
    changed_by   bigint REFERENCES users (id),
    changed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lesson_changes_enrolment_idx ON lesson_changes (enrolment_id, id);

-- Nobody attends more than 8 hours of lessons a day, whichever path writes.
-- Per enrolment: a worker holds no two places in classes whose dates
-- overlap (enrolments_no_overlap).
CREATE FUNCTION lesson_day_limit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT sum(l.hours) FROM lesson_attendees a
          JOIN lessons l ON l.id = a.lesson_id
          JOIN lessons n ON n.id = NEW.lesson_id
         WHERE a.enrolment_id = NEW.enrolment_id AND NOT l.carried_over AND l.held_on = n.held_on) > 8 THEN
        RAISE EXCEPTION 'enrolment % attends more than 8 hours on one day', NEW.enrolment_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'lesson_day_limit';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER lesson_day_limit AFTER INSERT ON lesson_attendees
    FOR EACH ROW EXECUTE FUNCTION lesson_day_limit();

-- Carry the totals over: one lesson per enrolment and course with hours,
-- dated the class's last day, attended by that enrolment alone.
ALTER TABLE lessons ADD COLUMN carried_from bigint;
INSERT INTO lessons (class_id, course_id, held_on, hours, carried_over, source, created_by, created_at, carried_from)
SELECT e.class_id, a.course_id, c.ends_on, a.hours, true, 'carried_over', a.recorded_by, a.updated_at, a.id
  FROM attendance a
  JOIN enrolments e ON e.id = a.enrolment_id
  JOIN classes c ON c.id = e.class_id
 WHERE a.hours > 0
 ORDER BY a.id;
INSERT INTO lesson_attendees (lesson_id, enrolment_id)
SELECT l.id, a.enrolment_id FROM lessons l JOIN attendance a ON a.id = l.carried_from;
ALTER TABLE lessons DROP COLUMN carried_from;

-- The totals and their change log are gone; every earlier correction is
-- still in audit_events (attendance.record).
DROP TABLE attendance_changes;
DROP TABLE attendance;
DROP FUNCTION attendance_within_course();
