-- Training delivery: classes, enrolments with their waiting lists, the
-- plan-level waiting list fed by rosters, and attendance hours.
-- btree_gist lets one exclusion constraint combine "same worker" (=) with
-- "overlapping dates" (&&). It is a trusted extension (PostgreSQL 13+).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE classes (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_org_id  bigint NOT NULL REFERENCES organisations (id),
    plan_id          bigint NOT NULL REFERENCES plans (id),
    name             text NOT NULL CHECK (name <> '' AND length(name) <= 100),
    starts_on        date NOT NULL,
    ends_on          date NOT NULL,
    place            text NOT NULL DEFAULT '',
    region_code      text NOT NULL REFERENCES regions (code),
    capacity         integer NOT NULL CHECK (capacity > 0 AND capacity <= 1000),
    enrol_opens_on   date,
    enrol_closes_on  date,
    state            text NOT NULL DEFAULT 'draft'
                         CHECK (state IN ('draft', 'open', 'running', 'completed', 'cancelled')),
    -- kept by the enrolments trigger below; enrolled counts places taken
    -- (enrolled and completed)
    enrolled_count   integer NOT NULL DEFAULT 0,
    waitlisted_count integer NOT NULL DEFAULT 0 CHECK (waitlisted_count >= 0),
    cancel_reason    text,
    cancelled_at     timestamptz,
    created_by       bigint REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT classes_dates CHECK (ends_on >= starts_on),
    CONSTRAINT classes_enrol_window CHECK (
        (enrol_opens_on IS NULL OR enrol_closes_on IS NULL OR enrol_closes_on >= enrol_opens_on) AND
        (enrol_closes_on IS NULL OR enrol_closes_on <= ends_on)),
    -- an overfull class cannot exist, whatever the application does
    CONSTRAINT classes_capacity_held CHECK (enrolled_count BETWEEN 0 AND capacity),
    CONSTRAINT classes_cancel_whole CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX classes_provider_idx ON classes (provider_org_id, starts_on DESC);
CREATE INDEX classes_plan_idx ON classes (plan_id, state, starts_on);
CREATE INDEX classes_region_idx ON classes (region_code text_pattern_ops);

CREATE TABLE enrolments (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    class_id         bigint NOT NULL REFERENCES classes (id),
    worker_id        bigint NOT NULL REFERENCES workers (id),
    -- the plan version enrolled under; completion is judged against it
    plan_version_id  bigint NOT NULL REFERENCES plan_versions (id),
    status           text NOT NULL CHECK (status IN ('enrolled', 'waitlisted', 'withdrawn', 'completed', 'cancelled')),
    source           text NOT NULL CHECK (source IN ('self', 'roster', 'provider')),
    -- order on the class's waiting list, only while waitlisted
    position         integer CHECK (position > 0),
    -- the class's dates, copied so the exclusion constraint can see them
    period           daterange NOT NULL,
    roster_import_id bigint,
    completed_on     date,
    withdrawn_at     timestamptz,
    created_by       bigint REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT enrolments_once UNIQUE (worker_id, class_id),
    CONSTRAINT enrolments_position CHECK ((status = 'waitlisted') = (position IS NOT NULL)),
    CONSTRAINT enrolments_completed_on CHECK ((status = 'completed') = (completed_on IS NOT NULL)),
    -- one worker is never in two classes whose dates overlap
    CONSTRAINT enrolments_no_overlap EXCLUDE USING gist (worker_id WITH =, period WITH &&)
        WHERE (status IN ('enrolled', 'waitlisted', 'completed'))
);
CREATE INDEX enrolments_class_idx ON enrolments (class_id, status, position);
CREATE UNIQUE INDEX enrolments_waitlist_order ON enrolments (class_id, position) WHERE status = 'waitlisted';
CREATE INDEX enrolments_version_idx ON enrolments (plan_version_id);

-- Counts per class, kept in the same statement as the enrolment change.
-- Updating the class row also serialises every enrolment change of a class.
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

-- The plan-level waiting list: roster graduates who found no open class of
-- their plan in their college's region. Promoted in id order when a class of
-- the plan opens in that region.
CREATE TABLE plan_waitlist (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id          bigint NOT NULL REFERENCES plans (id),
    worker_id        bigint NOT NULL REFERENCES workers (id),
    region_code      text NOT NULL REFERENCES regions (code),
    roster_import_id bigint,
    status           text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'placed', 'removed')),
    enrolment_id     bigint REFERENCES enrolments (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    placed_at        timestamptz,
    CONSTRAINT plan_waitlist_placed CHECK ((status = 'placed') = (enrolment_id IS NOT NULL))
);
CREATE UNIQUE INDEX plan_waitlist_once ON plan_waitlist (plan_id, worker_id) WHERE status = 'waiting';
CREATE INDEX plan_waitlist_plan_idx ON plan_waitlist (plan_id, status, id);

-- Hours of one enrolment in one course: one row holding the current total;
-- every change is kept in attendance_changes with who and why.
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
    -- a correction (an existing value changed) always says why
    CONSTRAINT attendance_changes_reason CHECK (old_hours IS NULL OR reason <> '')
);
CREATE INDEX attendance_changes_attendance_idx ON attendance_changes (attendance_id);

-- Hours never exceed the course's hours, whichever path writes them.
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
