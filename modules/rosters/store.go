package rosters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/orgs"
	"tuoyu/modules/pg"
	"tuoyu/modules/workers"
)

// Store reads and writes roster_imports and roster_rows, on the database or
// inside a transaction.
type Store struct {
	db bun.IDB
}

// NewStore returns a Store on db.
func NewStore(db bun.IDB) Store { return Store{db: db} }

func errNotFound() *apperr.Error {
	return apperr.NotFound("roster_not_found", "花名册导入记录不存在")
}

// scopeColumns: a college sees its own imports, admins all; nobody else any.
var scopeColumns = accounts.ScopeColumns{Org: "ri.college_org_id"}

func (s Store) scoped(p *accounts.Principal, dst any) *bun.SelectQuery {
	q := s.db.NewSelect().Model(dst).
		ColumnExpr("ri.*").
		ColumnExpr("coalesce(o.name, '') AS college_name")
	q = orgs.JoinOrganisation(q, "o", "ri.college_org_id")
	return p.Scope().Apply(q, scopeColumns)
}

// ByID returns import id if p may see it. Errors: NotFound roster_not_found.
func (s Store) ByID(ctx context.Context, p *accounts.Principal, id int64) (*Import, error) {
	im := new(Import)
	if err := s.scoped(p, im).Where("ri.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound()
		}
		return nil, fmt.Errorf("select roster import %d: %w", id, err)
	}
	return im, nil
}

// LockByID locks import id for the rest of the transaction if p may see it.
// Errors: NotFound roster_not_found.
func (s Store) LockByID(ctx context.Context, p *accounts.Principal, id int64) (*Import, error) {
	im := new(Import)
	q := p.Scope().Apply(s.db.NewSelect().Model(im), scopeColumns)
	if err := q.Where("ri.id = ?", id).For("UPDATE OF ri").Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound()
		}
		return nil, fmt.Errorf("lock roster import %d: %w", id, err)
	}
	return im, nil
}

// List returns a page of the imports p may see, newest first, and their
// total. Errors: only internal ones (database).
func (s Store) List(ctx context.Context, p *accounts.Principal, limit, offset int) ([]Import, int, error) {
	var out []Import
	n, err := s.scoped(p, &out).OrderExpr("ri.id DESC").Limit(int64(limit)).Offset(int64(offset)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list roster imports: %w", err)
	}
	return out, int(n), nil
}

// SameFile returns the other imports p may see of the same college with the
// same file content (SHA-256), newest first: a re-upload is worth saying.
// Errors: only internal ones (database).
func (s Store) SameFile(ctx context.Context, p *accounts.Principal, im *Import) ([]Import, error) {
	var out []Import
	err := s.scoped(p, &out).
		Where("ri.college_org_id = ? AND ri.file_sha256 = ? AND ri.id <> ?", im.CollegeOrgID, im.FileSHA256, im.ID).
		OrderExpr("ri.id DESC").Limit(10).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("imports of the same file as %d: %w", im.ID, err)
	}
	return out, nil
}

// Insert adds a new import and sets its id and creation time.
// Errors: only internal ones (database).
func (s Store) Insert(ctx context.Context, im *Import) error {
	_, err := s.db.NewInsert().Model(im).ExcludeColumn("id", "created_at").
		Returning("id, created_at").Exec(ctx)
	if err != nil {
		return fmt.Errorf("insert roster import: %w", err)
	}
	return nil
}

// Update writes the given columns of im. Errors: only internal ones (database).
func (s Store) Update(ctx context.Context, im *Import, columns ...string) error {
	if _, err := s.db.NewUpdate().Model(im).Column(columns...).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update roster import %d: %w", im.ID, err)
	}
	return nil
}

// SetProgress records how far a background validation is. Errors: only internal ones (database).
func (s Store) SetProgress(ctx context.Context, id int64, progress int) error {
	_, err := s.db.NewUpdate().Table("roster_imports").Set("progress = ?", progress).
		Where("id = ? AND status = ?", id, StatusValidating).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set progress of roster import %d: %w", id, err)
	}
	return nil
}

// RowFilter selects rows of an import.
type RowFilter struct {
	Outcomes []string // empty: all
	WithDiff bool     // only rows that differ from the stored worker
	Limit    int      // 0: all
	Offset   int
	AfterRow int // when set, only rows after this row number (a cursor)
}

// Rows returns rows of import id in row order and the number matching:
// exact up to pg.ExactUpTo, else the planner's estimate with estimate true
// (a 100 000-row import is never counted whole for a page).
// Errors: only internal ones (database).
func (s Store) Rows(ctx context.Context, id int64, f RowFilter) (rows []Row, total int, estimate bool, err error) {
	var out []Row
	where := func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("rr.import_id = ?", id)
		if len(f.Outcomes) > 0 {
			q = q.Where("rr.outcome IN (?)", bun.In(f.Outcomes))
		}
		if f.WithDiff {
			q = q.Where("rr.diff <> '{}'::jsonb")
		}
		return q
	}
	q := where(s.db.NewSelect().Model(&out)).OrderExpr("rr.row_num")
	if f.AfterRow > 0 {
		q, f.Offset = q.Where("rr.row_num > ?", f.AfterRow), 0
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit)).Offset(int64(f.Offset))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, 0, false, fmt.Errorf("select rows of roster import %d: %w", id, err)
	}
	if f.Limit <= 0 {
		return out, len(out), false, nil
	}
	n, estimate, err := pg.Total(ctx, s.db, where(s.db.NewSelect().TableExpr("roster_rows AS rr").ColumnExpr("rr.row_num")), pg.ExactUpTo)
	if err != nil {
		return nil, 0, false, fmt.Errorf("count rows of roster import %d: %w", id, err)
	}
	return out, n, estimate, nil
}

// EachRow calls fn for the rows of import id with the given outcomes, in
// row order, a batch at a time so a 200 000-row import is never loaded
// whole. Errors: only internal ones (database).
func (s Store) EachRow(ctx context.Context, id int64, outcomes []string, fn func(Row) error) error {
	const batch = 5000
	last := 0
	for {
		var rows []Row
		err := s.db.NewSelect().Model(&rows).
			Where("rr.import_id = ? AND rr.row_num > ? AND rr.outcome IN (?)", id, last, bun.In(outcomes)).
			OrderExpr("rr.row_num").Limit(batch).Scan(ctx)
		if err != nil {
			return fmt.Errorf("select rows of roster import %d: %w", id, err)
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) < batch {
			return nil
		}
		last = rows[len(rows)-1].RowNum
	}
}

// ValidRowsIn returns the valid rows of import id whose ID number index is
// among indexes (a sub-query selecting id_number_idx), with what refusing
// them needs. Errors: only internal ones (database).
func (s Store) ValidRowsIn(ctx context.Context, id int64, indexes *bun.SelectQuery) ([]Row, error) {
	var rows []Row
	err := s.db.NewSelect().Model(&rows).
		Column("import_id", "row_num", "id_number_idx", "id_mask", "plan_code", "errors", "outcome").
		Where("rr.import_id = ? AND rr.outcome <> ?", id, OutcomeInvalid).
		Where("rr.id_number_idx IN (?)", indexes).
		OrderExpr("rr.row_num").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select banned rows of roster import %d: %w", id, err)
	}
	return rows, nil
}

// ValidRowsOfOthers returns the valid rows of import id whose person is
// stored as anyone but college's graduate; colleges is workers.Colleges.
// One join on the ID number index, whatever the size of the import.
// Errors: only internal ones (database).
func (s Store) ValidRowsOfOthers(ctx context.Context, id int64, colleges *bun.SelectQuery, college int64) ([]Row, error) {
	var rows []Row
	err := s.db.NewSelect().Model(&rows).
		Column("import_id", "row_num", "id_number_idx", "id_mask", "plan_code", "errors", "outcome").
		Join("JOIN (?) AS w ON w.id_number_idx = rr.id_number_idx", colleges).
		Where("rr.import_id = ? AND rr.outcome <> ?", id, OutcomeInvalid).
		Where("w.college_org_id <> ?", college).
		OrderExpr("rr.row_num").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select other colleges' rows of roster import %d: %w", id, err)
	}
	return rows, nil
}

// ValidPlanRows returns the valid rows of import id that name a plan, with
// their ID number index. Errors: only internal ones (database).
func (s Store) ValidPlanRows(ctx context.Context, id int64) ([]Row, error) {
	var rows []Row
	err := s.db.NewSelect().Model(&rows).Column("import_id", "row_num", "id_number_idx", "plan_code").
		Where("rr.import_id = ? AND rr.outcome <> ? AND rr.plan_code <> ''", id, OutcomeInvalid).
		OrderExpr("rr.row_num").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select plan rows of roster import %d: %w", id, err)
	}
	return rows, nil
}

// AddValidRowsTo fills bulk, the workers module's bulk write, with the rows
// of import im that passed validation, in row order, in one statement (the
// rows never leave the database); it returns how many it added.
// Errors: only internal ones (database).
func (s Store) AddValidRowsTo(ctx context.Context, bulk *workers.Bulk, im *Import) (int, error) {
	return bulk.AddFrom(ctx, `SELECT name, id_number_enc, id_number_idx, id_mask, sex, birth_date,
			id_area_code, phone_enc, phone_idx, CASE WHEN phone_idx IS NULL THEN NULL ELSE phone_mask END,
			education, major, graduation_year, ?::bigint
		FROM roster_rows WHERE import_id = ? AND outcome <> ? ORDER BY row_num`,
		im.CollegeOrgID, im.ID, OutcomeInvalid)
}

// RefuseRow marks row r invalid with its (extended) errors, dropping its
// diff and worker: a commit found a reason the validation could not see.
// Errors: only internal ones (database).
func (s Store) RefuseRow(ctx context.Context, r *Row) error {
	_, err := s.db.NewUpdate().Model(r).Column("errors").
		Set("outcome = ?", OutcomeInvalid).Set("diff = '{}'").Set("worker_id = NULL").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("refuse roster row %d: %w", r.RowNum, err)
	}
	return nil
}

// SetEnrolmentStatus records the enrolment outcome of rows nums of import id.
// Errors: only internal ones (database).
func (s Store) SetEnrolmentStatus(ctx context.Context, id int64, nums []int, status string) error {
	_, err := s.db.NewUpdate().Table("roster_rows").Set("enrolment_status = ?", status).
		Where("import_id = ? AND row_num IN (?)", id, bun.In(nums)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record enrolment of roster rows: %w", err)
	}
	return nil
}

// Fail marks import id failed with code and message, if it is still validating.
// Errors: only internal ones (database).
func (s Store) Fail(ctx context.Context, id int64, code, message string) error {
	_, err := s.db.NewUpdate().Table("roster_imports").
		Set("status = ?, error_code = ?, error_message = ?, progress = 100", StatusFailed, code, message).
		Where("id = ? AND status = ?", id, StatusValidating).Exec(ctx)
	return err
}

// FailValidatingBefore marks imports still validating that were created
// before t failed as interrupted; it returns how many. Errors: only internal ones (database).
func (s Store) FailValidatingBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := s.db.NewUpdate().Table("roster_imports").
		Set("status = ?, error_code = 'interrupted', error_message = ?, progress = 100",
			StatusFailed, "校验被中断（服务重启），请重新上传").
		Where("status = ? AND created_at < ?", StatusValidating, t).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("fail interrupted roster imports: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CountOfCollege counts the imports of college orgID. Errors: only internal ones (database).
func (s Store) CountOfCollege(ctx context.Context, orgID int64) (int, error) {
	n, err := s.db.NewSelect().Table("roster_imports").Where("college_org_id = ?", orgID).Count(ctx)
	return int(n), err
}
