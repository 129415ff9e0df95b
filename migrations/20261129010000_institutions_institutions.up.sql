-- Childcare institutions (托育机构) kept by regulators. The unified social
-- credit code is checked in Go (GB 32100 check character); the pattern here
-- is the last line of defence.
CREATE TABLE institutions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uscc            text NOT NULL UNIQUE CHECK (uscc ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'),
    name            text NOT NULL CHECK (name <> '' AND length(name) <= 100),
    kind            text NOT NULL CHECK (kind IN ('public', 'non_profit', 'for_profit')),
    region_code     text NOT NULL REFERENCES regions (code),
    address         text NOT NULL DEFAULT '',
    places          integer NOT NULL CHECK (places > 0),
    filing_status   text NOT NULL DEFAULT 'unfiled' CHECK (filing_status IN ('unfiled', 'filed', 'revoked')),
    filed_on        date,
    revoked_on      date,
    -- the organisation whose users act for this institution (ban checks)
    organisation_id bigint UNIQUE REFERENCES organisations (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- the filing dates follow the status: filed needs its date, revoked both
    CONSTRAINT institutions_filing_dates CHECK (
        (filing_status = 'unfiled' AND filed_on IS NULL AND revoked_on IS NULL) OR
        (filing_status = 'filed' AND filed_on IS NOT NULL AND revoked_on IS NULL) OR
        (filing_status = 'revoked' AND filed_on IS NOT NULL AND revoked_on IS NOT NULL AND revoked_on >= filed_on))
);
CREATE INDEX institutions_region_idx ON institutions (region_code text_pattern_ops);
