-- Workers (托育从业人员), keyed by resident ID number. The ID number, phone
-- and bank account are stored only encrypted (*_enc, AES-256-GCM) with a
-- keyed HMAC blind index (*_idx) for look-ups and uniqueness and a mask
-- (*_mask) for lists, so listing never needs to decrypt.
CREATE TABLE workers (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                    text NOT NULL CHECK (name <> '' AND length(name) <= 50),
    id_number_enc           bytea NOT NULL,
    id_number_idx           bytea NOT NULL UNIQUE,
    id_mask                 text NOT NULL,
    -- derived from the ID number and kept in clear (DESIGN §3)
    sex                     text NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date              date NOT NULL,
    id_area_code            text NOT NULL CHECK (id_area_code ~ '^[0-9]{6}$'),
    phone_enc               bytea,
    phone_idx               bytea,
    phone_mask              text NOT NULL DEFAULT '',
    education               text CHECK (education IN ('primary', 'junior_middle', 'senior_middle',
                                'secondary_vocational', 'junior_college', 'bachelor', 'master', 'doctor')),
    employer_institution_id bigint REFERENCES institutions (id),
    -- graduation, set by roster imports
    college_org_id          bigint REFERENCES organisations (id),
    major                   text NOT NULL DEFAULT '',
    graduation_year         smallint CHECK (graduation_year BETWEEN 1950 AND 2100),
    occupations             text[] NOT NULL DEFAULT '{}'
                                CHECK (occupations <@ ARRAY['4-10-01-01', '4-10-01-02', '4-10-01-03']::text[]),
    -- facts for the subsidy rules (DESIGN §6.2); NULL means unknown
    employment              text CHECK (employment IN ('enterprise_employee', 'unemployment_benefit',
                                'registered_unemployed', 'flexible', 'public_sector', 'retired', 'student')),
    insured_months          integer CHECK (insured_months >= 0),
    insured_months_on       date,
    insured_months_source   text NOT NULL DEFAULT '',
    target_groups           text[] NOT NULL DEFAULT '{}'
                                CHECK (target_groups <@ ARRAY['poverty_monitoring', 'graduate_of_year', 'school_leaver',
                                    'rural_migrant', 'registered_unemployed', 'employment_difficulty']::text[]),
    bank_account_enc        bytea,
    bank_account_idx        bytea,
    bank_account_mask       text NOT NULL DEFAULT '',
    bank_name               text NOT NULL DEFAULT '',
    -- kept in step with the bans table by the bans module
    banned                  boolean NOT NULL DEFAULT false,
    -- HR and regulator scope: the employer's region, else the college's,
    -- else the ID's area code when in Hubei; set by the trigger below
    region_code             text CHECK (region_code ~ '^[0-9]{6}$'),
    registered_by_org_id    bigint REFERENCES organisations (id),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workers_insured_months_dated CHECK (insured_months IS NULL OR insured_months_on IS NOT NULL),
    CONSTRAINT workers_phone_whole CHECK ((phone_enc IS NULL) = (phone_idx IS NULL)),
    CONSTRAINT workers_bank_whole CHECK ((bank_account_enc IS NULL) = (bank_account_idx IS NULL))
);
CREATE INDEX workers_region_idx ON workers (region_code text_pattern_ops);
CREATE INDEX workers_college_idx ON workers (college_org_id);
CREATE INDEX workers_employer_idx ON workers (employer_institution_id);
CREATE INDEX workers_registered_by_idx ON workers (registered_by_org_id);
CREATE INDEX workers_name_idx ON workers (name text_pattern_ops);
CREATE INDEX workers_phone_idx ON workers (phone_idx);

-- The region is recomputed on every write in the database, so every path
-- that writes workers (forms, roster bulk upserts) follows the same rule.
CREATE FUNCTION workers_set_region() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.region_code := COALESCE(
        (SELECT i.region_code FROM institutions i WHERE i.id = NEW.employer_institution_id),
        (SELECT o.region_code FROM organisations o WHERE o.id = NEW.college_org_id),
        CASE WHEN NEW.id_area_code LIKE '42%' THEN NEW.id_area_code END);
    RETURN NEW;
END;
$$;
CREATE TRIGGER workers_region BEFORE INSERT OR UPDATE ON workers
    FOR EACH ROW EXECUTE FUNCTION workers_set_region();

-- When an institution moves, its employees' region moves with it.
CREATE FUNCTION institutions_move_workers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE workers SET updated_at = updated_at WHERE employer_institution_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER institutions_region_moves_workers AFTER UPDATE OF region_code ON institutions
    FOR EACH ROW WHEN (OLD.region_code IS DISTINCT FROM NEW.region_code)
    EXECUTE FUNCTION institutions_move_workers();
