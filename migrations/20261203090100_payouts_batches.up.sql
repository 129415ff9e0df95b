-- Payout batches (拨付批次): payable claims of one region gathered to be paid
-- together through one bank file. draft → exported (the bank file was
-- downloaded) → paid (the bank confirmed). Amounts are whole yuan.
CREATE TABLE payout_batches (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_code     text NOT NULL REFERENCES regions (code),
    status          text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'exported', 'paid')),
    -- kept by the items trigger below: every item not removed (included or
    -- later returned by the bank), and the returned part of them; what was
    -- paid is the difference, so paid + returned = batch by construction
    claims          integer NOT NULL DEFAULT 0 CHECK (claims >= 0),
    total_yuan      bigint NOT NULL DEFAULT 0 CHECK (total_yuan >= 0),
    returned_claims integer NOT NULL DEFAULT 0 CHECK (returned_claims >= 0),
    returned_yuan   bigint NOT NULL DEFAULT 0 CHECK (returned_yuan >= 0),
    created_by      bigint NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    exported_at     timestamptz,
    exported_by     bigint REFERENCES users (id),
    exports         integer NOT NULL DEFAULT 0 CHECK (exports >= 0),
    paid_on         date,
    bank_reference  text CHECK (bank_reference IS NULL OR (btrim(bank_reference) <> '' AND length(bank_reference) <= 100)),
    paid_at         timestamptz,
    paid_by         bigint REFERENCES users (id),
    CONSTRAINT payout_batches_totals CHECK (total_yuan >= claims AND returned_claims <= claims AND returned_yuan <= total_yuan),
    CONSTRAINT payout_batches_exported CHECK ((status = 'draft') = (exported_at IS NULL) AND (exported_at IS NULL) = (exports = 0)),
    CONSTRAINT payout_batches_paid CHECK ((status = 'paid') = (paid_at IS NOT NULL)
        AND (paid_at IS NULL) = (paid_on IS NULL) AND (paid_at IS NULL) = (bank_reference IS NULL)),
    -- nothing is exported or paid from an empty batch
    CONSTRAINT payout_batches_not_empty CHECK (status = 'draft' OR claims > 0),
    -- only the bank returns money, and only from a paid batch
    CONSTRAINT payout_batches_returns_after_paid CHECK (status = 'paid' OR returned_claims = 0)
);
CREATE INDEX payout_batches_region_idx ON payout_batches (region_code text_pattern_ops, id DESC);
CREATE INDEX payout_batches_paid_idx ON payout_batches (paid_on) WHERE status = 'paid';

-- One row per claim put in a batch. A claim is included in at most one batch
-- at a time (partial unique index): it leaves a draft only as removed, and a
-- paid one only as returned by the bank, after which it may join a later
-- batch — so a claim is paid at most once.
CREATE TABLE payout_batch_items (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id           bigint NOT NULL REFERENCES payout_batches (id),
    claim_id           bigint NOT NULL,
    worker_id          bigint NOT NULL REFERENCES workers (id),
    -- the claim's region and subsidy, copied for the overview and the file
    region_code        text NOT NULL REFERENCES regions (code),
    subsidy            text NOT NULL,
    amount_yuan        bigint NOT NULL CHECK (amount_yuan > 0 AND amount_yuan <= 1000000),
    status             text NOT NULL DEFAULT 'included' CHECK (status IN ('included', 'removed', 'returned')),
    removed_reason     text CHECK (removed_reason IS NULL OR btrim(removed_reason) <> ''),
    removed_by         bigint REFERENCES users (id),
    removed_at         timestamptz,
    -- blind index of the account the bank file carried (set at export), so a
    -- return file naming the account finds the item without decrypting
    account_idx        bytea,
    return_reason      text CHECK (return_reason IS NULL OR btrim(return_reason) <> ''),
    returned_at        timestamptz,
    -- set when the worker's account changed after the return and the claim
    -- went back to payable
    released_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payout_batch_items_removed CHECK ((status = 'removed') = (removed_at IS NOT NULL)
        AND (removed_at IS NULL) = (removed_reason IS NULL)),
    CONSTRAINT payout_batch_items_returned CHECK ((status = 'returned') = (returned_at IS NOT NULL)
        AND (returned_at IS NULL) = (return_reason IS NULL)),
    CONSTRAINT payout_batch_items_released CHECK (released_at IS NULL OR status = 'returned')
);
CREATE UNIQUE INDEX payout_batch_items_claim_once ON payout_batch_items (claim_id) WHERE status = 'included';
CREATE INDEX payout_batch_items_batch_idx ON payout_batch_items (batch_id, id);
CREATE INDEX payout_batch_items_returned_idx ON payout_batch_items (region_code text_pattern_ops)
    WHERE status = 'returned' AND released_at IS NULL;

-- Refuses item changes the batch's state does not allow: items join and
-- leave only a draft, and are returned only from a paid batch. The batch
-- row is share-locked, so its state cannot change under the statement.
CREATE FUNCTION payout_batch_items_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    b_status text;
BEGIN
    SELECT status INTO b_status FROM payout_batches WHERE id = NEW.batch_id FOR SHARE;
    IF TG_OP = 'INSERT' THEN
        IF b_status <> 'draft' OR NEW.status <> 'included' THEN
            RAISE EXCEPTION 'payout batch %: items join only a draft', NEW.batch_id USING ERRCODE = 'check_violation';
        END IF;
    ELSE
        IF NEW.batch_id <> OLD.batch_id OR NEW.claim_id <> OLD.claim_id OR NEW.amount_yuan <> OLD.amount_yuan THEN
            RAISE EXCEPTION 'payout batch item %: batch, claim and amount never change', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        IF OLD.status <> NEW.status AND NOT (
            (OLD.status = 'included' AND NEW.status = 'removed' AND b_status = 'draft') OR
            (OLD.status = 'included' AND NEW.status = 'returned' AND b_status = 'paid')) THEN
            RAISE EXCEPTION 'payout batch item %: % → % not allowed in a % batch', OLD.id, OLD.status, NEW.status, b_status
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER payout_batch_items_check
    BEFORE INSERT OR UPDATE ON payout_batch_items
    FOR EACH ROW EXECUTE FUNCTION payout_batch_items_check();

-- Keeps each batch's totals in the statement that changes its items: once
-- per statement (transition tables), not once per row, so a batch of
-- 10 000 claims updates its row once. Counted: every item not removed
-- (included or returned), and the returned ones.
CREATE FUNCTION payout_batch_items_totals() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    WITH delta AS (
        SELECT batch_id,
               sum(sign * (status IN ('included', 'returned'))::int) AS claims,
               sum(sign * CASE WHEN status IN ('included', 'returned') THEN amount_yuan ELSE 0 END) AS yuan,
               sum(sign * (status = 'returned')::int) AS returned_claims,
               sum(sign * CASE WHEN status = 'returned' THEN amount_yuan ELSE 0 END) AS returned_yuan
        FROM (SELECT batch_id, status, amount_yuan, 1 AS sign FROM new_items
              UNION ALL
              SELECT batch_id, status, amount_yuan, -1 FROM old_items) AS x
        GROUP BY batch_id)
    UPDATE payout_batches AS b SET
        claims = b.claims + d.claims,
        total_yuan = b.total_yuan + d.yuan,
        returned_claims = b.returned_claims + d.returned_claims,
        returned_yuan = b.returned_yuan + d.returned_yuan
    FROM delta AS d
    WHERE b.id = d.batch_id AND (d.claims, d.yuan, d.returned_claims, d.returned_yuan) <> (0, 0, 0, 0);
    RETURN NULL;
END;
$$;

-- An INSERT has no old rows: an empty table stands in for them.
CREATE FUNCTION payout_batch_items_totals_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE payout_batches AS b SET
        claims = b.claims + d.claims,
        total_yuan = b.total_yuan + d.yuan
    FROM (SELECT batch_id, count(*) AS claims, sum(amount_yuan) AS yuan FROM new_items GROUP BY batch_id) AS d
    WHERE b.id = d.batch_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER payout_batch_items_totals_insert
    AFTER INSERT ON payout_batch_items
    REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION payout_batch_items_totals_insert();

CREATE TRIGGER payout_batch_items_totals_update
    AFTER UPDATE ON payout_batch_items
    REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION payout_batch_items_totals();

CREATE FUNCTION payout_batch_items_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'payout batch items are kept for the record: remove or return them instead';
END;
$$;

CREATE TRIGGER payout_batch_items_keep
    BEFORE DELETE ON payout_batch_items
    FOR EACH ROW EXECUTE FUNCTION payout_batch_items_keep();
