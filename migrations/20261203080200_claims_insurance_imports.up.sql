-- Social-insurance months imported by HR (身份证号, 累计缴费月数, 截至日期):
-- a preview is stored with its valid rows and its errors, then committed once.
CREATE TABLE insurance_imports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uploaded_by   bigint NOT NULL REFERENCES users (id),
    file_name     text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'preview' CHECK (status IN ('preview', 'committed')),
    rows_total    integer NOT NULL CHECK (rows_total >= 0),
    rows_valid    integer NOT NULL CHECK (rows_valid >= 0),
    rows_invalid  integer NOT NULL CHECK (rows_invalid >= 0),
    rows_updated  integer NOT NULL DEFAULT 0 CHECK (rows_updated >= 0),
    -- valid rows: [{worker_id, months, as_of}]; no ID numbers are kept
    valid_rows    jsonb NOT NULL,
    -- [{row, field, code, message}]
    errors        jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    committed_at  timestamptz,
    CHECK ((status = 'committed') = (committed_at IS NOT NULL))
);
