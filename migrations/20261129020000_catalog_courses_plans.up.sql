-- The training catalogue: courses in the four policy categories and
-- versioned plans. Hours are numeric(5,1): tenths of an hour, exact.
CREATE TABLE courses (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text NOT NULL UNIQUE CHECK (code ~ '^[A-Z]{2,5}-[0-9]{2,3}$'),
    category       text NOT NULL CHECK (category IN ('law', 'ethics', 'safety', 'skills')),
    title          text NOT NULL CHECK (title <> ''),
    theory_hours   numeric(5,1) NOT NULL CHECK (theory_hours >= 0),
    practice_hours numeric(5,1) NOT NULL CHECK (practice_hours >= 0),
    description    text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT courses_has_hours CHECK (theory_hours + practice_hours > 0)
);

CREATE TABLE plans (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code               text NOT NULL UNIQUE CHECK (code ~ '^[A-Z]{2,5}-[A-Z0-9]{1,4}$'),
    name               text NOT NULL CHECK (name <> ''),
    occupation         text NOT NULL CHECK (occupation IN ('4-10-01-03', '4-10-01-02', '4-10-01-01', 'manager')),
    purpose            text NOT NULL CHECK (purpose IN ('pre_service', 'in_service', 'upgrade')),
    level              smallint CHECK (level BETWEEN 1 AND 5),
    current_version_id bigint,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_upgrade_has_level CHECK (purpose <> 'upgrade' OR level IS NOT NULL)
);

-- A plan version is frozen (in_use) once an enrolment points at it; the
-- catalogue then makes a new version on edit instead of changing it.
CREATE TABLE plan_versions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id         bigint NOT NULL REFERENCES plans (id),
    version         integer NOT NULL CHECK (version > 0),
    min_total_hours numeric(5,1) NOT NULL CHECK (min_total_hours >= 0),
    pass_mark       smallint NOT NULL CHECK (pass_mark BETWEEN 1 AND 100),
    max_attempts    smallint NOT NULL CHECK (max_attempts BETWEEN 1 AND 5),
    in_use          boolean NOT NULL DEFAULT false,
    created_by      bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (plan_id, version),
    UNIQUE (plan_id, id)
);

-- The current version must be one of the plan's own versions. Deferred, so
-- a plan and its first version can be inserted in one transaction.
ALTER TABLE plans ADD CONSTRAINT plans_current_version_fk
    FOREIGN KEY (id, current_version_id) REFERENCES plan_versions (plan_id, id)
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE plan_version_courses (
    plan_version_id bigint NOT NULL REFERENCES plan_versions (id) ON DELETE CASCADE,
    course_id       bigint NOT NULL REFERENCES courses (id),
    required_hours  numeric(5,1) NOT NULL CHECK (required_hours >= 0),
    position        smallint NOT NULL,
    PRIMARY KEY (plan_version_id, course_id)
);
CREATE INDEX plan_version_courses_course_idx ON plan_version_courses (course_id);

CREATE TABLE plan_version_minimums (
    plan_version_id bigint NOT NULL REFERENCES plan_versions (id) ON DELETE CASCADE,
    category        text NOT NULL CHECK (category IN ('law', 'ethics', 'safety', 'skills')),
    min_hours       numeric(5,1) NOT NULL CHECK (min_hours >= 0),
    PRIMARY KEY (plan_version_id, category)
);

-- A course's hours cap every plan's requirement of it; the catalogue checks
-- this in Go, the trigger makes a bypass impossible.
CREATE FUNCTION plan_version_courses_within_course() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.required_hours > (SELECT theory_hours + practice_hours FROM courses WHERE id = NEW.course_id) THEN
        RAISE EXCEPTION 'required hours % above the hours of course %', NEW.required_hours, NEW.course_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'plan_version_courses_within_course';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER plan_version_courses_within_course BEFORE INSERT OR UPDATE ON plan_version_courses
    FOR EACH ROW EXECUTE FUNCTION plan_version_courses_within_course();
