-- Policy parameters of the subsidy rules (DESIGN §6.1): dated regional
-- values, kept as history. A row is never changed or removed: a new value
-- with a later effective_from supersedes an older one from that day on, and
-- on the same day the later row (higher id) wins, which is how a mistake is
-- corrected. The trigger below makes that a rule of the database.
CREATE TABLE policy_parameters (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL CHECK (name ~ '^[a-z_]+(\.[a-z_]+)+$'),
    region_code    text NOT NULL REFERENCES regions (code),
    effective_from date NOT NULL,
    effective_to   date CHECK (effective_to IS NULL OR effective_to >= effective_from),
    value          jsonb NOT NULL,
    reference      text NOT NULL CHECK (btrim(reference) <> ''),
    example        boolean NOT NULL DEFAULT false,
    -- default: loaded from the shipped reviewed data; admin: entered on the page.
    source         text NOT NULL CHECK (source IN ('default', 'admin')),
    note           text NOT NULL DEFAULT '',
    entered_by     bigint REFERENCES users (id),
    entered_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((source = 'admin') = (entered_by IS NOT NULL))
);

-- Loading the defaults at every start adds only what is not there yet.
CREATE UNIQUE INDEX policy_parameters_default_key
    ON policy_parameters (name, region_code, effective_from) WHERE source = 'default';
CREATE INDEX policy_parameters_name ON policy_parameters (name, region_code, effective_from);

CREATE FUNCTION policy_parameters_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'policy_parameters is append-only: add a new dated value instead';
END;
$$;

CREATE TRIGGER policy_parameters_append_only
    BEFORE UPDATE OR DELETE ON policy_parameters
    FOR EACH ROW EXECUTE FUNCTION policy_parameters_append_only();
