package workers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/institutions"
	"tuoyu/modules/orgs"
	"tuoyu/modules/pg"
)

// Store reads and writes the workers table. It works on the database or
// inside a transaction a service opened.
type Store struct {
	db    bun.IDB
	plans *pg.Plans    // nil: List asks the planner on every call
	prep  *pg.Prepared // nil: List plans every page afresh
}

// NewStore returns a Store on db (a *bun.DB or a bun.Tx).
func NewStore(db bun.IDB) Store { return Store{db: db} }

// WithPlans returns s with List's row estimates taken from plans.
func (s Store) WithPlans(plans *pg.Plans) Store { s.plans = plans; return s }

// WithPrepared returns s with List's pages of preparedScope run as
// prepared statements of prep.
func (s Store) WithPrepared(prep *pg.Prepared) Store { s.prep = prep; return s }

// ErrNotFound is the error for a worker that does not exist or is outside
// the caller's scope; the two look the same so IDs cannot be probed.
func errNotFound() *apperr.Error { return apperr.NotFound("worker_not_found", "学员不存在") }

// providerScope lists the providers that see a worker, from the read model
// provider_workers: the one that registered them and every provider in
// whose class they hold a place (enrolled, waitlisted or completed). A
// withdrawn or cancelled enrolment does not keep a worker in a provider's
// scope. The enrolment module keeps the rows in step (store_providers.go),
// so this module reads no other module's table.
const providerScope = `SELECT pw.organisation_id FROM provider_workers AS pw WHERE pw.worker_id = w.id`

// institutionScope puts a worker in the scope of the institution that
// employs them, through the organisation linked to the institution.
var institutionScope = institutions.OrganisationOf("w.employer_institution_id")

// ScopeColumns are the columns that decide whether p sees a worker (alias w):
// HR and regulators by the worker's region, colleges their own graduates,
// providers the workers they registered, institutions their employees,
// workers themselves.
func ScopeColumns(p *accounts.Principal) accounts.ScopeColumns {
	cols := accounts.ScopeColumns{Region: "w.region_code", Worker: "w.id"}
	if p == nil {
		return cols
	}
	switch p.Role {
	case accounts.RoleCollege:
		cols.Org = "w.college_org_id"
	case accounts.RoleProvider:
		cols.OrgIn = providerScope
	case accounts.RoleInstitution:
		cols.Org = institutionScope
	}
	return cols
}

// scoped selects workers with their employer's and college's names, limited
// to what p may see (nothing for a nil p).
func (s Store) scoped(p *accounts.Principal, dst any) *bun.SelectQuery {
	q := s.db.NewSelect().Model(dst).
		ColumnExpr("w.*").
		ColumnExpr("coalesce(i.name, '') AS employer_name").
		ColumnExpr("coalesce(co.name, '') AS college_name")
	q = institutions.JoinInstitution(q, "i", "w.employer_institution_id")
	q = orgs.JoinOrganisation(q, "co", "w.college_org_id")
	return applyScope(q, p, pg.Literal)
}

// applyScope limits q (alias w) to the workers p sees. It is ScopeColumns'
// rule written so that each kind of scope starts from an index that holds
// its workers in list order (name, id), instead of filtering the province:
// a provider from its links in provider_workers, an institution from its
// employees, a city by the first four digits of the region and a district
// by its code (migration workers_list_indexes). bind writes the scope's
// value (pg.Literal, or a placeholder for a prepared statement; see
// preparedScope).
func applyScope(q *bun.SelectQuery, p *accounts.Principal, bind func(any) any) *bun.SelectQuery {
	if p == nil {
		return q.Where("FALSE")
	}
	sc := p.Scope()
	switch {
	case p.Role == accounts.RoleProvider && p.OrgID != 0:
		return q.Where("w.id IN (SELECT pw.worker_id FROM provider_workers AS pw WHERE pw.organisation_id = ?)", p.OrgID)
	case p.Role == accounts.RoleInstitution && p.OrgID != 0:
		return q.Where("w.employer_institution_id = ?", bun.Safe(institutions.OfOrganisation(p.OrgID)))
	case p.Role == accounts.RoleCollege && p.OrgID != 0:
		return q.Where("w.college_org_id = ?", bind(p.OrgID))
	case !sc.All && len(sc.RegionPrefix) == 4:
		return q.Where("left(w.region_code, 4) = ?", bind(sc.RegionPrefix))
	case !sc.All && len(sc.RegionPrefix) == 6:
		return q.Where("w.region_code = ?", bind(sc.RegionPrefix))
	}
	return sc.Apply(q, ScopeColumns(p))
}

// preparedScope reports whether p's scope is one applyScope writes as an
// equality on the leading column of a list index that holds the workers
// in list order (a college, a city, a district) or no condition at all
// (the admin): the best plan of a page is then the same index walk for
// every value, so a generic plan is safe. A provider's scope starts from
// its links and a province's from a prefix, whose best plans depend on
// the size of the scope; they are planned per request.
func preparedScope(p *accounts.Principal) bool {
	if p == nil {
		return false
	}
	sc := p.Scope()
	switch {
	case p.Role == accounts.RoleProvider || p.Role == accounts.RoleInstitution:
		return false
	case p.Role == accounts.RoleCollege:
		return p.OrgID != 0
	}
	return sc.All || len(sc.RegionPrefix) == 4 || len(sc.RegionPrefix) == 6
}

// ByID returns worker id if p may see it. Errors: NotFound worker_not_found.
func (s Store) ByID(ctx context.Context, p *accounts.Principal, id int64) (*Worker, error) {
	w := new(Worker)
	if err := s.scoped(p, w).Where("w.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound()
		}
		return nil, fmt.Errorf("select worker %d: %w", id, err)
	}
	return w, nil
}

// Get returns worker id whoever asks, for other modules' use cases that have
// already decided the caller may act on it. Errors: NotFound worker_not_found.
func (s Store) Get(ctx context.Context, id int64) (*Worker, error) {
	return s.getWhere(ctx, "w.id = ?", id)
}

// ByIDNumberIdx returns the worker with the given ID number blind index.
// Errors: NotFound worker_not_found.
func (s Store) ByIDNumberIdx(ctx context.Context, idx []byte) (*Worker, error) {
	return s.getWhere(ctx, "w.id_number_idx = ?", idx)
}

func (s Store) getWhere(ctx context.Context, where string, arg any) (*Worker, error) {
	w := new(Worker)
	if err := s.db.NewSelect().Model(w).Where(where, arg).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound()
		}
		return nil, fmt.Errorf("select worker: %w", err)
	}
	return w, nil
}

// lock takes a row lock on worker id so concurrent edits serialise.
func (s Store) lock(ctx context.Context, id int64) error {
	_, err := s.db.NewSelect().Table("workers").Column("id").Where("id = ?", id).For("UPDATE").Exec(ctx)
	if err != nil {
		return fmt.Errorf("lock worker %d: %w", id, err)
	}
	return nil
}

// ListQuery selects a page of workers.
type ListQuery struct {
	IDNumberIdx []byte // when set, only the worker with this ID number
	NamePrefix  string // when set, names starting with it
	Limit       int    // 0: all of them
	Offset      int
	// AfterName and AfterID, when AfterID is set, resume the list after
	// that row (keyset pagination on the list's order).
	AfterName string
	AfterID   int64
	// Brief reads only listColumns (what the list API and page show)
	// instead of whole workers.
	Brief bool
}

// prepared reports whether the page of lq for p runs as a prepared
// statement: a brief first page or page after a cursor, without a search
// (a name prefix becomes an index range only when it is a constant), in a
// scope of preparedScope. Limits are written as constants, so the page
// sizes make a few statements, not one per value.
func (lq ListQuery) prepared(p *accounts.Principal) bool {
	return lq.Brief && lq.Limit > 0 && lq.Offset == 0 && lq.IDNumberIdx == nil && lq.NamePrefix == "" && preparedScope(p)
}

func (lq ListQuery) filter(q *bun.SelectQuery) *bun.SelectQuery {
	if lq.IDNumberIdx != nil {
		q = q.Where("w.id_number_idx = ?", lq.IDNumberIdx)
	}
	if lq.NamePrefix != "" {
		// name is in the "C" collation, so the planner turns the prefix
		// into an index range of the (…, name, id) indexes.
		q = q.Where("w.name LIKE ? ESCAPE '\\'", escapeLike(lq.NamePrefix)+"%")
	}
	return q
}

// listColumns are what a list shows: the masks, never the encrypted values
// (a row of the list is a quarter of a whole worker to read and scan).
var listColumns = []string{"w.id", "w.name", "w.id_mask", "w.sex", "w.birth_date", "w.phone_mask",
	"w.region_code", "w.employer_institution_id", "w.college_org_id", "w.banned"}

// List returns the workers p may see that match q, ordered by name then id,
// whole or (lq.Brief) with the columns of listColumns, with the names of
// their employer and college, and their total: exact up to pg.ExactUpTo,
// else the planner's estimate with estimate true. The planner is asked through s's plans (see
// WithPlans), and a total that is counted comes in the page's own query.
// Errors: only internal ones (database).
func (s Store) List(ctx context.Context, p *accounts.Principal, lq ListQuery) (rows []Worker, total int, estimate bool, err error) {
	if lq.Limit > 0 {
		rows = make([]Worker, 0, lq.Limit) // a Worker is large: growing the slice by reflection cost 5 % of a request
	}
	count := s.countQuery(p, lq, pg.Literal)
	planned, err := s.plans.Rows(ctx, s.db, count)
	if err != nil {
		return nil, 0, false, fmt.Errorf("count workers: %w", err)
	}
	q := s.db.NewSelect().Model(&rows)
	if lq.Brief {
		q = q.Column(listColumns...)
	} else {
		q = q.ColumnExpr("w.*")
	}
	// The names by scalar sub-queries, not joins: planning the two joins
	// was most of the list's time in the database (0.45 ms of a page's
	// 0.6 ms at demo size, against 0.17 ms).
	q = q.ColumnExpr(institutions.NameOf("w.employer_institution_id") + " AS employer_name").
		ColumnExpr(orgs.NameOf("w.college_org_id") + " AS college_name")
	var params pg.Params
	bind := pg.Literal
	prepared := s.prep != nil && lq.prepared(p)
	if prepared {
		bind = params.Bind
	}
	q = lq.filter(applyScope(q, p, bind)).OrderExpr("w.name, w.id")
	large := planned > 2*float64(pg.ExactUpTo)
	if !large {
		// An uncorrelated subquery runs once per statement, not per row.
		if prepared {
			count = s.countQuery(p, lq, bind) // with its own placeholders
		}
		q = q.ColumnExpr("(?) AS list_total", pg.CappedCount(count, pg.ExactUpTo))
	}
	if lq.AfterID != 0 {
		q = q.Where("(w.name, w.id) > (?, ?)", bind(lq.AfterName), bind(lq.AfterID))
	}
	if lq.Limit > 0 {
		q = q.Limit(int64(lq.Limit)).Offset(int64(lq.Offset))
	}
	if prepared {
		err = s.prep.Select(ctx, &rows, q.String(), params.Args()...)
	} else {
		err = q.Scan(ctx)
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("list workers: %w", err)
	}
	if large {
		return rows, int(planned), true, nil
	}
	if len(rows) == 0 {
		// A page past the end has no row to carry the count.
		total, estimate, err = pg.Total(ctx, s.db, s.countQuery(p, lq, pg.Literal), pg.ExactUpTo)
		if err != nil {
			return nil, 0, false, fmt.Errorf("count workers: %w", err)
		}
		return rows, total, estimate, nil
	}
	total, estimate = pg.Settle(rows[0].ListTotal, planned, pg.ExactUpTo)
	return rows, total, estimate, nil
}

// countQuery selects the ids of the workers p may see that match lq: the
// count reads only workers, since the names joined for display do not
// change how many there are. bind writes the scope's value (applyScope).
func (s Store) countQuery(p *accounts.Principal, lq ListQuery, bind func(any) any) *bun.SelectQuery {
	if p != nil && p.Role == accounts.RoleProvider && lq.IDNumberIdx == nil && lq.NamePrefix == "" {
		// A provider's workers are its links: counted on the link table's
		// key alone, without visiting a worker.
		return s.db.NewSelect().TableExpr("provider_workers AS pw").ColumnExpr("pw.worker_id").
			Where("pw.organisation_id = ?", p.OrgID)
	}
	return lq.filter(applyScope(s.db.NewSelect().TableExpr("workers AS w").ColumnExpr("w.id"), p, bind))
}

// Insert adds w and sets its ID, region and ban flag from the database.
// Errors: Conflict worker_exists when the ID number is already registered.
func (s Store) Insert(ctx context.Context, w *Worker) error {
	_, err := s.db.NewInsert().Model(w).
		ExcludeColumn("id", "region_code", "banned", "created_at", "updated_at").
		Returning("id, created_at, updated_at").Exec(ctx)
	if err != nil {
		if pg.IsUnique(err, "workers_id_number_idx_key") {
			return apperr.Conflict("worker_exists", "该身份证号已登记为学员").Wrap(err)
		}
		return fmt.Errorf("insert worker: %w", err)
	}
	// The region and the ban flag are set by the table's AFTER INSERT
	// statement triggers, after RETURNING has been computed: read them back.
	err = s.db.NewSelect().TableExpr("workers").ColumnExpr("coalesce(region_code, ''), banned").
		Where("id = ?", w.ID).Scan(ctx, &w.RegionCode, &w.Banned)
	if err != nil {
		return fmt.Errorf("read back worker %d: %w", w.ID, err)
	}
	return nil
}

// InsertIfAbsent adds ws in one statement, skipping ID numbers already
// registered (bulk loads that may run twice). Errors: only internal ones (database).
func (s Store) InsertIfAbsent(ctx context.Context, ws []Worker) error {
	if len(ws) == 0 {
		return nil
	}
	_, err := s.db.NewInsert().Model(&ws).
		ExcludeColumn("id", "region_code", "banned", "created_at", "updated_at").
		On("CONFLICT (id_number_idx) DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("insert %d workers: %w", len(ws), err)
	}
	return nil
}

// Nth returns the n-th worker (from 0) in registration order. Errors:
// NotFound worker_not_found when there are not that many.
func (s Store) Nth(ctx context.Context, n int) (*Worker, error) {
	w := new(Worker)
	err := s.db.NewSelect().Model(w).OrderExpr("w.id").Offset(int64(n)).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("select worker number %d: %w", n, err)
	}
	return w, nil
}

// Update writes the given columns of w (and updated_at) and reads back the
// region the database recomputed. Errors: only internal ones (database).
func (s Store) Update(ctx context.Context, w *Worker, columns ...string) error {
	_, err := s.db.NewUpdate().Model(w).Column(columns...).
		Set("updated_at = now()").WherePK().
		Returning("region_code, updated_at").Exec(ctx)
	if err != nil {
		return fmt.Errorf("update worker %d: %w", w.ID, err)
	}
	return nil
}

// SetBanned sets the ban flag of the worker with the given ID number index
// (if there is one) and reports the worker's id, 0 when the person is not a
// worker. The bans module calls it inside the transaction that records or
// lifts a ban. Errors: only internal ones (database).
func (s Store) SetBanned(ctx context.Context, idx []byte, banned bool) (int64, error) {
	var id int64
	err := s.db.NewUpdate().Table("workers").
		Set("banned = ?", banned).Set("updated_at = now()").
		Where("id_number_idx = ?", idx).
		Returning("id").Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("set worker banned: %w", err)
	}
	return id, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
