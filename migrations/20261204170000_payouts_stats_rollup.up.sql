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
--   passed    key = ''            enrolments that passed every part their plan asks for, region of
--                                 their sittings, month of the last passing result (Asia/Shanghai)
CREATE TABLE payouts_stats_monthly (
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    region_code text NOT NULL,
    measure     text NOT NULL CHECK (measure IN ('claimed', 'approved', 'certified', 'trained', 'paid', 'passed')),
    key         text NOT NULL,
    n           bigint NOT NULL,
    yuan        bigint NOT NULL,
    PRIMARY KEY (month, region_code, measure, key)
);

CREATE FUNCTION payouts_stats_month(d date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT date_trunc('month', d::timestamp)::date $$;

-- The passes among the results of relation results (sittings from relation
-- sittings): one row per enrolment and assessment passed, with the region
-- of its sittings and the day of its last passing result, as
-- assessments.PassesForStats counts them.
CREATE FUNCTION payouts_stats_passes(results text, sittings text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT format($q$
    SELECT min(s.region_code) AS region_code, (max(x.updated_at) AT TIME ZONE 'Asia/Shanghai')::date AS day
    FROM %s x JOIN %s s ON s.id = x.sitting_id
    JOIN classes cl ON cl.id = s.class_id JOIN plans pa ON pa.id = cl.plan_id
    WHERE x.passed
    GROUP BY x.enrolment_id, pa.assessment
    HAVING count(DISTINCT s.kind) >= CASE pa.assessment WHEN 'theory_practical' THEN 2 ELSE 1 END $q$, results, sittings)
$$;

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
WHEN 'assessment_results' THEN $q$
    SELECT c.region_code, payouts_stats_month(c.day) AS month, 'passed' AS measure, '' AS key,
        c.sign AS n, 0::bigint AS yuan $q$
END $$;

-- The signed rows of a statement on tbl from its transition tables. For
-- classes and batches only rows whose region, or status and payment day,
-- changed count (an update of a class's name moves nothing); their rows
-- are never deleted while enrolments or items point at them (foreign keys).
CREATE FUNCTION payouts_stats_rows(tbl text, op text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE
-- A pass depends on all results of its enrolment: the passes of the touched
-- enrolments after the statement (+1) and before it (-1; their results now,
-- less the new rows, plus the old ones).
WHEN tbl = 'assessment_results' THEN format($q$
    WITH e AS (%1$s),
    after AS (SELECT r.* FROM assessment_results r WHERE r.enrolment_id IN (SELECT enrolment_id FROM e)),
    before AS (SELECT * FROM after a WHERE %2$s UNION ALL %3$s)
    SELECT 1 AS sign, * FROM (%4$s) a UNION ALL SELECT -1, * FROM (%5$s) b $q$,
    CASE op WHEN 'INSERT' THEN 'SELECT enrolment_id FROM new_rows' WHEN 'DELETE' THEN 'SELECT enrolment_id FROM old_rows'
        ELSE 'SELECT enrolment_id FROM new_rows UNION SELECT enrolment_id FROM old_rows' END,
    -- an anti-join: NOT IN over a large statement's rows would rescan them per row
    CASE WHEN op = 'DELETE' THEN 'true' ELSE 'NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = a.id)' END,
    CASE WHEN op = 'INSERT' THEN 'SELECT * FROM after WHERE false' ELSE 'SELECT * FROM old_rows' END,
    payouts_stats_passes('after', 'assessment_sittings'), payouts_stats_passes('before', 'assessment_sittings'))
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

CREATE TRIGGER payouts_stats_ins AFTER INSERT ON assessment_results
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();
CREATE TRIGGER payouts_stats_upd AFTER UPDATE ON assessment_results
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();
CREATE TRIGGER payouts_stats_del AFTER DELETE ON assessment_results
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_trigger();

-- The passes of the whole rollup counted again: after a change of what
-- every pass rests on (a sitting's region, kind or class, a class's plan, a
-- plan's assessment), rare edits that may touch any number of enrolments.
CREATE FUNCTION payouts_stats_recount_passes() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM payouts_stats_monthly WHERE measure = 'passed';
    EXECUTE payouts_stats_fold(format('SELECT 1 AS sign, * FROM (%s) p', payouts_stats_passes('assessment_results', 'assessment_sittings')),
        payouts_stats_contrib('assessment_results'));
END $$;

CREATE FUNCTION payouts_stats_passes_basis() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cols text := CASE TG_TABLE_NAME WHEN 'assessment_sittings' THEN '%1$s.region_code, %1$s.kind, %1$s.class_id'
        WHEN 'classes' THEN '%1$s.plan_id' ELSE '%1$s.assessment' END;
    changed boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE (%s) IS DISTINCT FROM (%s))',
        format(cols, 'n'), format(cols, 'o')) INTO changed;
    IF changed THEN
        PERFORM payouts_stats_recount_passes();
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER payouts_stats_passes AFTER UPDATE ON assessment_sittings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_passes_basis();
CREATE TRIGGER payouts_stats_passes AFTER UPDATE ON classes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_passes_basis();
CREATE TRIGGER payouts_stats_passes AFTER UPDATE ON plans
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION payouts_stats_passes_basis();

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
    PERFORM payouts_stats_recount_passes();
END $$;
