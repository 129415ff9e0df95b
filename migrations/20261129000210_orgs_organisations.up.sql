-- Every organisation that has users. The unified social credit code is
-- checked in Go (GB 32100 check character) and unique when present.
CREATE TABLE organisations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9_-]{2,40}$'),
    name        text NOT NULL CHECK (name <> ''),
    kind        text NOT NULL CHECK (kind IN ('college', 'provider', 'institution', 'hr_bureau', 'regulator', 'admin')),
    region_code text NOT NULL REFERENCES regions (code),
    uscc        text UNIQUE CHECK (uscc ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'),
    site_code   text CHECK (site_code ~ '^[0-9]{6}$'),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organisations_region_idx ON organisations (region_code);
