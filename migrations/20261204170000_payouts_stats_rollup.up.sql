-- The HR overview's rollup (issue 13): per region, month and measure the
-- number of events and their yuan, so that the overview of a province sums
-- a few thousand rows instead of scanning every claim, completion,
-- certificate and batch item of the year. Months are Asia/Shanghai months
-- (the overview reads the rollup only in that zone). Kept exact by
-- statement triggers over transition tables on the source tables: each
-- statement adds its new rows and subtracts its old ones, grouped, so a
-- statement costs one upsert per touched (month, region, measure, key),
-- whatever its size. TestRollupEqualsFreshCount checks it against a fresh
-- count after every kind of change.
--   claimed   key = claim status  claims by month of submission
--   approved  key = ''            claims by month of approved_on
--   certified key = ''            certificates issued here, by month of issued_on
--   trained   key = ''            completed enrolments, class's region, month of completed_on
--   paid      key = item status   included and returned items of paid batches, month of paid_on
CREATE TABLE payouts_stats_monthly (
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    region_code text NOT NULL,
    measure     text NOT NULL CHECK (measure IN ('claimed', 'approved', 'certified', 'trained', 'paid')),
    key         text NOT NULL,
    n           bigint NOT NULL,
    yuan        bigint NOT NULL,
    PRIMARY KEY (month, region_code, measure, key)
);

CREATE FUNCTION payouts_stats_month(d date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT date_trunc('month', d::timestamp)::date $$;

-- The contributions of one signed row c of a source table (sign +1 for a
-- new row, -1 for an old one): a lateral sub-query yielding region_code,
-- month, measure, key, n, yuan. Rows of classes and batches contribute
-- through their enrolments and items as they stand.
CREATE FUNCTION payouts_stats_contrib(tbl text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE tbl
WHEN 'claims' THEN $q$
    SELECT c.region_code, date_trunc('month', c.submitted_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
        'claimed' AS measure, c.status AS key, c.sign AS n, c.sign * c.amount_yuan AS yuan
    UNION ALL
    SELECT c.region_code, payouts_stats_month(c.approved_on), 'approved', '', c.sign, c.sign * c.amount_yuan
    WHERE c.approved_on IS NOT NULL $q$
WHEN 'certificates' THEN $q$
    SELECT c.region_code, payouts_stats_month(c.issued_on) AS month, 'certified' AS measure, '' AS key,
        c.sign AS n, 0::bigint AS yuan
    WHERE c.source = 'issued' $q$
WHEN 'enrolments' THEN $q$
    SELECT cl.region_code, payouts_stats_month(c.completed_on) AS month, 'trained' AS measure, '' AS key,
        c.sign AS n, 0::bigint AS yuan
    FROM classes cl WHERE cl.id = c.class_id AND c.status = 'completed' $q$
WHEN 'classes' THEN $q$
    SELECT c.region_code, payouts_stats_month(e.completed_on) AS month, 'trained' AS measure, '' AS key,
        c.sign AS n, 0::bigint AS yuan
    FROM enrolments e WHERE e.class_id = c.id AND e.status = 'completed' $q$
WHEN 'payout_batch_items' THEN $q$
    SELECT c.region_code, payouts_stats_month(b.paid_on) AS month, 'paid' AS measure, c.status AS key,
        c.sign AS n, c.sign * c.amount_yuan AS yuan
    FROM payout_batches b WHERE b.id = c.batch_id AND b.status = 'paid' AND c.status IN ('included', 'returned') $q$
WHEN 'payout_batches' THEN $q$
    SELECT i.region_code, payouts_stats_month(c.paid_on) AS month, 'paid' AS measure, i.status AS key,
        c.sign AS n, c.sign * i.amount_yuan AS yuan
    FROM payout_batch_items i WHERE i.batch_id = c.id AND c.status = 'paid' AND i.status IN ('included', 'returned') $q$
END $$;

-- The signed rows of a statement on tbl from its transition tables. For
-- classes and batches only rows whose region, or status and payment day,
-- changed count (an update of a class's name moves nothing); their rows
-- are never deleted while enrolments or items point at them (foreign keys).
CREATE FUNCTION payouts_stats_rows(tbl text, op text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE
WHEN tbl IN ('classes', 'payout_batches') THEN format($q$
    SELECT 1 AS sign, n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE (%1$s) IS DISTINCT FROM (%2$s)
    UNION ALL
    SELECT -1, o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE (%1$s) IS DISTINCT FROM (%2$s) $q$,
    CASE tbl WHEN 'classes' THEN 'n.region_code' ELSE 'n.status, n.paid_on' END,
    CASE tbl WHEN 'classes' THEN 'o.region_code' ELSE 'o.status, o.paid_on' END)
WHEN op = 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
WHEN op = 'DELETE' THEN 'SELECT -1 AS sign, * FROM old_rows'
ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows'
END $$;

-- The statement folding signed rows into the rollup: grouped, zero sums
-- skipped, in key order so that concurrent statements lock shared rows in
-- the same order.
CREATE FUNCTION payouts_stats_fold(rows_sql text, contrib_sql text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT format($q$
    INSERT INTO payouts_stats_monthly AS t (month, region_code, measure, key, n, yuan)
    SELECT d.month, d.region_code, d.measure, d.key, sum(d.n), sum(d.yuan)
    FROM (%s) c CROSS JOIN LATERAL (%s) d
    GROUP BY 1, 2, 3, 4
    HAVING sum(d.n) <> 0 OR sum(d.yuan) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (month, region_code, measure, key) DO UPDATE SET n = t.n + EXCLUDED.n, yuan = t.yuan + EXCLUDED.yuan $q$,
    rows_sql, contrib_sql)
$$;

-- One trigger function for every source table: the statement is built
-- from the table's name and run with EXECUTE, which sees the transition
-- tables of the firing statement.
CREATE FUNCTION payouts_stats_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE payouts_stats_fold(payouts_stats_rows(TG_TABLE_NAME, TG_OP), payouts_stats_contrib(TG_TABLE_NAME));
    RETURN NULL;
END $$;

CREATE TRIGGER payouts_stats_ins AFTER INSERT ON claims
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();
CREATE TRIGGER payouts_stats_upd AFTER UPDATE ON claims
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();
CREATE TRIGGER payouts_stats_del AFTER DELETE ON claims
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();

CREATE TRIGGER payouts_stats_ins AFTER INSERT ON certificates
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();
CREATE TRIGGER payouts_stats_upd AFTER UPDATE ON certificates
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();
CREATE TRIGGER payouts_stats_del AFTER DELETE ON certificates
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();

CREATE TRIGGER payouts_stats_ins AFTER INSERT ON enrolments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();
CREATE TRIGGER payouts_stats_upd AFTER UPDATE ON enrolments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();
CREATE TRIGGER payouts_stats_del AFTER DELETE ON enrolments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();

CREATE TRIGGER payouts_stats_upd AFTER UPDATE ON classes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();

CREATE TRIGGER payouts_stats_ins AFTER INSERT ON payout_batch_items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();
CREATE TRIGGER payouts_stats_upd AFTER UPDATE ON payout_batch_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();
CREATE TRIGGER payouts_stats_del AFTER DELETE ON payout_batch_items
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();

CREATE TRIGGER payouts_stats_upd AFTER UPDATE ON payout_batches
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();

-- Back-fill from the data as it stands (the triggers above already hold
-- the tables against writes until this migration commits).
DO $$
DECLARE
    tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['claims', 'certificates', 'enrolments', 'payout_batch_items'] LOOP
        EXECUTE payouts_stats_fold(format('SELECT 1 AS sign, * FROM %I', tbl), payouts_stats_contrib(tbl));
    END LOOP;
END $$;
