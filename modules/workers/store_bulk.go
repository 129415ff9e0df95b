package workers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tuoyu/modules/institutions"
	"tuoyu/modules/orgs"
	"tuoyu/modules/pg"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// bulkChunk is how many rows one statement of BulkUpsert writes.
const bulkChunk = 10_000

// BulkRow is one worker a bulk write creates or updates, matched by the ID
// number's blind index. Personal data arrives already encrypted and indexed
// (the caller owns the cipher calls, so rows can be prepared before the
// transaction). Empty optional fields (no phone, education, major or
// graduation year) leave what is stored untouched; a phone fills only an
// empty one. A worker of another college than CollegeOrgID is left alone.
type BulkRow struct {
	Name           string
	IDNumberEnc    []byte
	IDNumberIdx    []byte
	IDMask         string
	Sex            Sex
	BirthDate      time.Time
	IDAreaCode     string
	PhoneEnc       []byte // written only when the worker has no phone
	PhoneIdx       []byte
	PhoneMask      string
	Education      Education // "": keep
	Major          string    // "": keep
	GraduationYear int       // 0: keep
	CollegeOrgID   int64     // the college that sent the roster; set on every write to a worker of no or this college
}

// BulkResult counts what a bulk write did.
type BulkResult struct {
	Inserted  int
	Updated   int
	Unchanged int
}

// Existing is what a roster compares a row with: the stored fields a bulk
// write may change.
type Existing struct {
	ID             int64     `bun:"id"`
	IDNumberIdx    []byte    `bun:"id_number_idx"`
	Name           string    `bun:"name"`
	PhoneIdx       []byte    `bun:"phone_idx"`
	PhoneMask      string    `bun:"phone_mask"`
	Education      Education `bun:"education"`
	Major          string    `bun:"major"`
	GraduationYear int       `bun:"graduation_year"`
	CollegeOrgID   int64     `bun:"college_org_id"`
	CollegeName    string    `bun:"college_name"`
	Banned         bool      `bun:"banned"`
}

// LookupByIDNumberIdx returns the stored workers whose ID number index is in
// idxs, keyed by string(index). Callers pass a few thousand at a time.
// Errors: only internal ones (database).
func LookupByIDNumberIdx(ctx context.Context, idb bun.IDB, idxs [][]byte) (map[string]Existing, error) {
	out := make(map[string]Existing, len(idxs))
	if len(idxs) == 0 {
		return out, nil
	}
	var rows []Existing
	q := idb.NewSelect().TableExpr("workers AS w").
		ColumnExpr("w.id, w.id_number_idx, w.name, w.phone_idx, w.phone_mask").
		ColumnExpr("coalesce(w.education, '') AS education, w.major").
		ColumnExpr("coalesce(w.graduation_year, 0) AS graduation_year, coalesce(w.college_org_id, 0) AS college_org_id").
		ColumnExpr("coalesce(o.name, '') AS college_name, w.banned")
	err := orgs.JoinOrganisation(q, "o", "w.college_org_id").
		Where("w.id_number_idx = ANY(?)", pgdialect.Array(idxs)).
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("look up workers by id number: %w", err)
	}
	for _, r := range rows {
		out[string(r.IDNumberIdx)] = r
	}
	return out, nil
}

// Bulk writes many workers set-based, in the caller's transaction: Add
// copies rows into a temporary table with COPY (DESIGN §11), a batch at a
// time so the caller never holds them all, or AddFrom fills it from a query
// when the rows are in the database already; Write then adds the new workers
// with INSERT … SELECT … ON CONFLICT (id_number_idx) and changes the
// existing ones whose values differ with one UPDATE … FROM. A repeated write
// changes nothing (not even updated_at).
type Bulk struct {
	conn bun.Conn
	tx   bun.Tx
	n    int // rows added so far; the next row's seq
}

// NewBulk starts a bulk write. conn must be the connection tx runs on: COPY
// needs the raw connection, and running it there keeps it inside the
// transaction. Errors: only internal ones (database).
func NewBulk(ctx context.Context, conn bun.Conn, tx bun.Tx) (*Bulk, error) {
	if _, err := tx.ExecContext(ctx, `CREATE TEMPORARY TABLE worker_bulk (
		seq integer NOT NULL, name text NOT NULL, id_number_enc bytea NOT NULL, id_number_idx bytea NOT NULL,
		id_mask text NOT NULL, sex text NOT NULL, birth_date date NOT NULL, id_area_code text NOT NULL,
		phone_enc bytea, phone_idx bytea, phone_mask text, education text, major text,
		graduation_year smallint, college_org_id bigint NOT NULL
	) ON COMMIT DROP`); err != nil {
		return nil, fmt.Errorf("create worker_bulk: %w", err)
	}
	return &Bulk{conn: conn, tx: tx}, nil
}

// Add copies rows into the bulk write. Rows must not repeat an ID number
// index, within a call or across calls. Errors: only internal ones (database).
func (b *Bulk) Add(ctx context.Context, rows []BulkRow) error {
	if len(rows) == 0 {
		return nil
	}
	err := pg.CopyFrom(ctx, b.conn, `COPY worker_bulk (seq, `+bulkColumns+`) FROM STDIN`,
		func(w *pg.CopyWriter) error { return writeBulkCopy(w, b.n, rows) })
	if err != nil {
		return fmt.Errorf("copy rows into worker_bulk: %w", err)
	}
	b.n += len(rows)
	return nil
}

// bulkColumns are the columns of a bulk row, in the order AddFrom expects.
const bulkColumns = `name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code,
	phone_enc, phone_idx, phone_mask, education, major, graduation_year, college_org_id`

// AddFrom adds the rows a query returns, for rows that are already in the
// database (a roster's validated rows): copying them server-side spares
// reading them out and sending them back. The query must return, in order:
// name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code,
// phone_enc, phone_idx, phone_mask, education, major, graduation_year,
// college_org_id, with NULL (never "") for an absent phone, education or
// graduation year. It reports how many rows it added. Errors: only internal ones (database).
func (b *Bulk) AddFrom(ctx context.Context, query string, args ...any) (int, error) {
	res, err := b.tx.ExecContext(ctx, `INSERT INTO worker_bulk (seq, `+bulkColumns+`)
		SELECT ? + row_number() OVER () - 1, q.* FROM (`+query+`) AS q`, append([]any{b.n}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("add rows to worker_bulk: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("add rows to worker_bulk: %w", err)
	}
	b.n += int(n)
	return int(n), nil
}

// Write merges the added rows into workers; with addOnly existing workers
// are left untouched. It ends the bulk write. Errors: only internal ones (database).
func (b *Bulk) Write(ctx context.Context, addOnly bool) (BulkResult, error) {
	var res BulkResult
	// Statistics let the planner hash-join 100 000 rows instead of looping:
	// those of the columns the joins read. The ciphertexts' took half the
	// time of an ANALYZE of every column (≈ 0.1 of 0.25 s at 99 000 rows).
	if _, err := b.tx.ExecContext(ctx, `ANALYZE worker_bulk (seq, id_number_idx, college_org_id)`); err != nil {
		return res, fmt.Errorf("analyze worker_bulk: %w", err)
	}
	var err error
	if res.Inserted, err = b.insertNew(ctx); err != nil {
		return res, err
	}
	// When every row was new there is nothing to update: the pass would
	// only look each just-inserted worker up again (a second of a first
	// commit of 100 000 rows).
	if !addOnly && res.Inserted < b.n {
		if res.Updated, err = b.updateExisting(ctx); err != nil {
			return res, err
		}
	}
	res.Unchanged = b.n - res.Inserted - res.Updated
	if _, err := b.tx.ExecContext(ctx, `DROP TABLE worker_bulk`); err != nil {
		return res, fmt.Errorf("drop worker_bulk: %w", err)
	}
	return res, nil
}

// insertNew adds the rows with no stored worker and counts them. Only
// those are offered to the INSERT, so an unchanged re-upload writes nothing.
// ON CONFLICT DO NOTHING still covers a worker inserted concurrently since
// the NOT EXISTS looked; updateExisting then sees it. registered_by_org_id
// is the college: it registered the person. The region is written with the
// row (the college's, else the ID's area code in Hubei; a new graduate has
// no employer), so the table's statement trigger, which checks it, finds
// nothing to correct.
//
// Both passes run a chunk of rows at a time: the driver gives up on a
// statement that answers nothing for 10 s (pgdriver's read timeout).
func (b *Bulk) insertNew(ctx context.Context) (int, error) {
	colleges, regions, err := b.collegeRegions(ctx)
	if err != nil {
		return 0, err
	}
	inserted := 0
	for from := 0; from < b.n; from += bulkChunk {
		n, err := countRows(ctx, b.tx, `INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex,
			birth_date, id_area_code, region_code, phone_enc, phone_idx, phone_mask, education, major,
			graduation_year, college_org_id, registered_by_org_id)
		SELECT name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code,
			coalesce(c.region, CASE WHEN b.id_area_code LIKE '42%' THEN b.id_area_code END),
			phone_enc, phone_idx, coalesce(phone_mask, ''), education, coalesce(major, ''), graduation_year,
			college_org_id, college_org_id
		FROM worker_bulk AS b
		LEFT JOIN unnest(?::bigint[], ?::text[]) AS c (id, region) ON c.id = b.college_org_id
		WHERE b.seq >= ? AND b.seq < ?
			AND NOT EXISTS (SELECT 1 FROM workers AS w WHERE w.id_number_idx = b.id_number_idx)
		ORDER BY seq
		ON CONFLICT (id_number_idx) DO NOTHING
		RETURNING id`, pgdialect.Array(colleges), pgdialect.Array(regions), from, from+bulkChunk)
		if err != nil {
			return inserted, fmt.Errorf("insert workers: %w", err)
		}
		inserted += n
	}
	return inserted, nil
}

// updateExisting changes stored workers, only where a value differs, so a
// repeated write changes nothing (not even updated_at) and fires no
// trigger, and counts them. Empty optional fields keep the stored value; a
// stored phone is never overwritten (the worker may have set it), only an
// absent one filled; the college is always set. Another college's graduate
// is never touched: the caller refuses such rows, and this condition,
// evaluated again on the locked row, holds against a concurrent claim.
func (b *Bulk) updateExisting(ctx context.Context) (int, error) {
	updated := 0
	for from := 0; from < b.n; from += bulkChunk {
		n, err := countRows(ctx, b.tx, `UPDATE workers AS w SET
				name = b.name,
				phone_enc = CASE WHEN w.phone_idx IS NULL THEN b.phone_enc ELSE w.phone_enc END,
				phone_idx = coalesce(w.phone_idx, b.phone_idx),
				phone_mask = CASE WHEN w.phone_idx IS NULL AND b.phone_idx IS NOT NULL THEN b.phone_mask ELSE w.phone_mask END,
				education = coalesce(b.education, w.education),
				major = CASE WHEN coalesce(b.major, '') = '' THEN w.major ELSE b.major END,
				graduation_year = coalesce(b.graduation_year, w.graduation_year),
				college_org_id = b.college_org_id,
				updated_at = now()
			FROM worker_bulk AS b
			WHERE b.seq >= ? AND b.seq < ? AND w.id_number_idx = b.id_number_idx
				AND (w.college_org_id IS NULL OR w.college_org_id = b.college_org_id)
				AND (w.name, w.phone_idx, w.education, w.major, w.graduation_year, w.college_org_id)
				IS DISTINCT FROM (b.name, coalesce(w.phone_idx, b.phone_idx), coalesce(b.education, w.education),
					CASE WHEN coalesce(b.major, '') = '' THEN w.major ELSE b.major END,
					coalesce(b.graduation_year, w.graduation_year), b.college_org_id)
			RETURNING w.id`, from, from+bulkChunk)
		if err != nil {
			return updated, fmt.Errorf("update workers: %w", err)
		}
		updated += n
	}
	return updated, nil
}

// collegeRegions returns the colleges the added rows name (one, for a
// roster) and their regions, side by side.
func (b *Bulk) collegeRegions(ctx context.Context) ([]int64, []string, error) {
	var ids []int64
	if err := b.tx.NewSelect().TableExpr("worker_bulk").ColumnExpr("DISTINCT college_org_id").
		Scan(ctx, &ids); err != nil {
		return nil, nil, fmt.Errorf("colleges of worker_bulk: %w", err)
	}
	byID, err := orgs.NewStore(b.tx).RegionsOf(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	regions := make([]string, len(ids))
	for i, id := range ids {
		regions[i] = byID[id] // "" for none: the trigger's foreign-key check refuses it
	}
	return ids, regions, nil
}

// BulkUpsert is a Bulk write of rows given at once. Errors: only internal ones (database).
func BulkUpsert(ctx context.Context, conn bun.Conn, tx bun.Tx, rows []BulkRow, addOnly bool) (BulkResult, error) {
	b, err := NewBulk(ctx, conn, tx)
	if err != nil {
		return BulkResult{}, err
	}
	if err := b.Add(ctx, rows); err != nil {
		return BulkResult{}, err
	}
	return b.Write(ctx, addOnly)
}

// countRows runs a statement with RETURNING and counts the rows it returns.
func countRows(ctx context.Context, tx bun.Tx, query string, args ...any) (int, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// writeBulkCopy writes rows in the column order of bulkColumns, after seq.
func writeBulkCopy(w *pg.CopyWriter, first int, rows []BulkRow) error {
	for i, r := range rows {
		w.Int(int64(first + i))
		w.Text(r.Name)
		w.Bytea(r.IDNumberEnc)
		w.Bytea(r.IDNumberIdx)
		w.Text(r.IDMask)
		w.Text(string(r.Sex))
		w.Date(&r.BirthDate)
		w.Text(r.IDAreaCode)
		w.Bytea(r.PhoneEnc)
		w.Bytea(r.PhoneIdx)
		w.NullText(r.PhoneMask, r.PhoneIdx == nil)
		w.NullText(string(r.Education), r.Education == "")
		w.Text(r.Major)
		w.NullInt(int64(r.GraduationYear))
		w.Int(r.CollegeOrgID)
		if err := w.End(); err != nil {
			return err
		}
	}
	return nil
}

// copyColumns are the columns CopyNew writes. The region is derived here
// (deriveRegions) so the table's statement trigger, which checks every new
// row's region against the rule, finds nothing to correct; the ban flag is
// the trigger's.
const copyColumns = `region_code, name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code,
	phone_enc, phone_idx, phone_mask, education, employer_institution_id, college_org_id, major,
	graduation_year, occupations, employment, insured_months, insured_months_on, insured_months_source,
	target_groups, bank_account_enc, bank_account_idx, bank_account_mask, bank_name, registered_by_org_id,
	employment_set_at, employment_set_by, insured_months_set_at, insured_months_set_by,
	target_groups_set_at, target_groups_set_by`

// CopyNew writes ws, all new people, with one COPY on conn: the scale seed's
// path, several times faster than INSERT for a million rows. One COPY is
// one statement, so a batch is written whole or not at all; a repeated ID
// number fails the batch with a unique violation. Errors: only internal
// ones (database).
func CopyNew(ctx context.Context, conn bun.Conn, ws []Worker) error {
	if err := deriveRegions(ctx, conn, ws); err != nil {
		return err
	}
	return pg.CopyFrom(ctx, conn, "COPY workers ("+copyColumns+") FROM STDIN", func(c *pg.CopyWriter) error {
		for i := range ws {
			copyRow(c, &ws[i])
			if err := c.End(); err != nil {
				return err
			}
		}
		return nil
	})
}

// deriveRegions sets the region of each of ws by the rule of DESIGN §3:
// the employer's region, else the college's, else the ID number's area
// code when in Hubei. One query per kind of organisation per call.
func deriveRegions(ctx context.Context, db bun.IDB, ws []Worker) error {
	employers, colleges := map[int64]bool{}, map[int64]bool{}
	for i := range ws {
		employers[ws[i].EmployerInstitutionID] = ws[i].EmployerInstitutionID != 0
		colleges[ws[i].CollegeOrgID] = ws[i].CollegeOrgID != 0
	}
	ofEmployer, err := institutions.NewStore(db).RegionsOf(ctx, keys(employers))
	if err != nil {
		return err
	}
	ofCollege, err := orgs.NewStore(db).RegionsOf(ctx, keys(colleges))
	if err != nil {
		return err
	}
	for i := range ws {
		w := &ws[i]
		switch {
		case ofEmployer[w.EmployerInstitutionID] != "":
			w.RegionCode = ofEmployer[w.EmployerInstitutionID]
		case ofCollege[w.CollegeOrgID] != "":
			w.RegionCode = ofCollege[w.CollegeOrgID]
		case strings.HasPrefix(w.IDAreaCode, "42"):
			w.RegionCode = w.IDAreaCode
		default:
			w.RegionCode = ""
		}
	}
	return nil
}

// keys returns the keys of set whose value is true.
func keys(set map[int64]bool) []int64 {
	out := make([]int64, 0, len(set))
	for k, ok := range set {
		if ok {
			out = append(out, k)
		}
	}
	return out
}

// copyRow writes the copyColumns of w, without ending the row.
func copyRow(c *pg.CopyWriter, w *Worker) {
	c.NullText(w.RegionCode, w.RegionCode == "")
	c.Text(w.Name)
	c.Bytea(w.IDNumberEnc)
	c.Bytea(w.IDNumberIdx)
	c.Text(w.IDMask)
	c.Text(string(w.Sex))
	c.Date(&w.BirthDate)
	c.Text(w.IDAreaCode)
	c.Bytea(w.PhoneEnc)
	c.Bytea(w.PhoneIdx)
	c.Text(w.PhoneMask)
	c.NullText(string(w.Education), w.Education == "")
	c.NullInt(w.EmployerInstitutionID)
	c.NullInt(w.CollegeOrgID)
	c.Text(w.Major)
	c.NullInt(int64(w.GraduationYear))
	c.Text(pgTextArray(w.Occupations))
	c.NullText(string(w.Employment), w.Employment == "")
	if w.InsuredMonths != nil {
		c.Int(int64(*w.InsuredMonths))
	} else {
		c.Null()
	}
	c.Date(w.InsuredMonthsOn)
	c.Text(w.InsuredMonthsSource)
	c.NullText(pgTextArray(w.TargetGroups), w.TargetGroups == nil) // nil: never asked
	c.Bytea(w.BankAccountEnc)
	c.Bytea(w.BankAccountIdx)
	c.Text(w.BankAccountMask)
	c.Text(w.BankName)
	c.NullInt(w.RegisteredByOrgID)
	// Fact provenance (who set a subsidy fact, when), as timestamps.
	for _, f := range []struct {
		at *time.Time
		by FactSource
	}{{w.EmploymentSetAt, w.EmploymentSetBy}, {w.InsuredMonthsSetAt, w.InsuredMonthsSetBy}, {w.TargetGroupsSetAt, w.TargetGroupsSetBy}} {
		if f.at == nil {
			c.Null()
		} else {
			c.Text(f.at.UTC().Format(time.RFC3339Nano))
		}
		c.NullText(string(f.by), f.by == "")
	}
}

// pgTextArray is an array literal of codes (no quoting needed: the codes are
// letters, digits, dashes and underscores).
func pgTextArray(vs []string) string {
	return "{" + strings.Join(vs, ",") + "}"
}

// CountRegisteredBy counts the workers registered by any of orgIDs: how far
// a resumable bulk load has come. Errors: only internal ones (database).
func CountRegisteredBy(ctx context.Context, db bun.IDB, orgIDs []int64) (int, error) {
	if len(orgIDs) == 0 {
		return 0, nil
	}
	n, err := db.NewSelect().TableExpr("workers").Where("registered_by_org_id IN (?)", bun.In(orgIDs)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count workers registered by %d organisations: %w", len(orgIDs), err)
	}
	return int(n), nil
}

// LinkRegistered records in provider_workers that each provider among
// orgIDs sees the workers it registered (the read model of a provider's
// scope), for the workers with ids in [fromID, toID] written by CopyNew.
// Errors: only internal ones (database).
func LinkRegistered(ctx context.Context, db bun.IDB, orgIDs []int64, fromID, toID int64) error {
	if len(orgIDs) == 0 {
		return nil
	}
	_, err := db.NewRaw(`INSERT INTO provider_workers (organisation_id, worker_id, registered)
		SELECT w.registered_by_org_id, w.id, true FROM workers AS w
		WHERE w.registered_by_org_id IN (?) AND w.id BETWEEN ? AND ?
		ON CONFLICT (organisation_id, worker_id) DO UPDATE SET registered = true
		WHERE NOT provider_workers.registered`, bun.In(orgIDs), fromID, toID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("link registered workers: %w", err)
	}
	return nil
}

// Analyze refreshes the planner's statistics of workers and
// provider_workers after a bulk load: until autovacuum gets to them the
// planner sees the tables as they were, and the lists' totals (planner
// estimates above pg.ExactUpTo) would be those of the empty tables.
// Errors: only internal ones (database).
func Analyze(ctx context.Context, db bun.IDB) error {
	// VACUUM too: a table just bulk-loaded has no visibility map, so every
	// index-only scan (the lists' capped counts) reads the heap until
	// autovacuum comes round.
	if _, err := db.ExecContext(ctx, "VACUUM (ANALYZE) workers, provider_workers"); err != nil {
		return fmt.Errorf("analyze workers: %w", err)
	}
	return nil
}

// LinkEnrolled puts workers in the scope of the providers whose classes
// they hold places in, from places (organisation_id, worker_id, places;
// enrolment.ActivePlaces) after a set-based load of enrolments in the same
// transaction. Errors: only internal ones (database).
func LinkEnrolled(ctx context.Context, db bun.IDB, places *bun.SelectQuery) error {
	_, err := db.NewRaw(`INSERT INTO provider_workers (organisation_id, worker_id, places)
		SELECT p.organisation_id, p.worker_id, p.places FROM (?) AS p
		ON CONFLICT (organisation_id, worker_id) DO UPDATE SET places = excluded.places`, places).Exec(ctx)
	if err != nil {
		return fmt.Errorf("link enrolled workers: %w", err)
	}
	return nil
}

// RegisteredIn selects the id and city (first four digits of the region)
// of the workers with ids in [fromID, toID] registered by orgIDs: the
// people of a set-based load of another module (enrolment.GenerateScale).
func RegisteredIn(db bun.IDB, orgIDs []int64, fromID, toID int64) *bun.SelectQuery {
	return db.NewSelect().TableExpr("workers AS w").
		ColumnExpr("w.id, left(w.region_code, 4) AS city").
		Where("w.id BETWEEN ? AND ?", fromID, toID).
		Where("w.registered_by_org_id = ANY(?)", pgdialect.Array(orgIDs))
}

// IDRange returns the smallest and largest id of the workers registered by
// orgIDs (0, 0 when there are none). Errors: only internal ones (database).
func IDRange(ctx context.Context, db bun.IDB, orgIDs []int64) (lo, hi int64, err error) {
	err = db.NewSelect().TableExpr("workers").ColumnExpr("coalesce(min(id), 0), coalesce(max(id), 0)").
		Where("registered_by_org_id IN (?)", bun.In(orgIDs)).Scan(ctx, &lo, &hi)
	if err != nil {
		return 0, 0, fmt.Errorf("id range of workers: %w", err)
	}
	return lo, hi, nil
}

// Colleges selects each worker's ID number index and college (columns
// id_number_idx, college_org_id; 0 for none), for a statement of another
// module that compares many people with the stored ones (a roster commit's
// re-check joins it on id_number_idx, which the unique index serves).
func Colleges(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("workers").
		ColumnExpr("id_number_idx, coalesce(college_org_id, 0) AS college_org_id")
}
