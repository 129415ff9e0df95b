CREATE TABLE regions (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
    name        text NOT NULL,
    parent_code text REFERENCES regions (code),
    level       smallint NOT NULL CHECK (level BETWEEN 1 AND 3)
);

CREATE INDEX regions_parent_code_idx ON regions (parent_code);
