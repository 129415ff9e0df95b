package claims

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/certificates"
	"tuoyu/modules/pg"
	"tuoyu/modules/subsidies"
	"tuoyu/modules/workers"
)

// Store reads and writes claims and the stored eligibility, on the database
// or inside the caller's transaction.
type Store struct{ db bun.IDB }

// NewStore returns a store working on db.
func NewStore(db bun.IDB) Store { return Store{db: db} }

func errNotFound() *apperr.Error { return apperr.NotFound("claim_not_found", "补贴申请不存在") }

// scopeColumns: workers see their own claims, HR those submitted in their
// region (the worker's region at submission), admins all.
var scopeColumns = accounts.ScopeColumns{Region: "cl.region_code", Worker: "cl.worker_id"}

// applyScope keeps the rows of table alias t that p may see. A city's and a
// district's regions become equalities on left(region_code, 4) and
// region_code, which the list indexes start with, so a page of a district
// is read in id order from its own index instead of filtering the
// province's newest claims (DESIGN §2 scopes; the same as workers').
func applyScope(q *bun.SelectQuery, p *accounts.Principal, t string) *bun.SelectQuery {
	sc := p.Scope()
	switch {
	case sc.All || sc.WorkerID != 0:
	case len(sc.RegionPrefix) == 4:
		return q.Where("left(?.region_code, 4) = ?", bun.Ident(t), sc.RegionPrefix)
	case len(sc.RegionPrefix) == 6:
		return q.Where("?.region_code = ?", bun.Ident(t), sc.RegionPrefix)
	}
	return sc.Apply(q, accounts.ScopeColumns{Region: t + ".region_code", Worker: t + ".worker_id"})
}

// selectClaims selects claims with the names shown on lists: the holder's
// name and the certificate's number, occupation and level.
func (s Store) selectClaims(dst any) *bun.SelectQuery {
	return s.db.NewSelect().Model(dst).
		ColumnExpr("cl.*").
		ColumnExpr("w.name AS worker_name").
		ColumnExpr("ce.number AS certificate_number, ce.occupation, ce.level, ce.issued_on").
		Join("JOIN (?) AS w ON w.id = cl.worker_id", workers.Display(s.db)).
		Join("JOIN (?) AS ce ON ce.id = cl.certificate_id", certificates.Display(s.db))
}

// ByID returns claim id whoever asks. Errors: NotFound claim_not_found.
func (s Store) ByID(ctx context.Context, id int64) (*Claim, error) {
	c := new(Claim)
	if err := s.selectClaims(c).Where("cl.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound()
		}
		return nil, fmt.Errorf("claim %d: %w", id, err)
	}
	return c, nil
}

// ForCaller returns claim id if p may see it. Errors: NotFound
// claim_not_found (also outside scope).
func (s Store) ForCaller(ctx context.Context, p *accounts.Principal, id int64) (*Claim, error) {
	c := new(Claim)
	q := p.Scope().Apply(s.selectClaims(c).Where("cl.id = ?", id), scopeColumns)
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound()
		}
		return nil, fmt.Errorf("claim %d: %w", id, err)
	}
	return c, nil
}

// Lock locks claim id for the caller's transaction and returns it.
// Errors: NotFound claim_not_found.
func (s Store) Lock(ctx context.Context, id int64) (*Claim, error) {
	c := new(Claim)
	if err := s.db.NewSelect().Model(c).Where("cl.id = ?", id).For("UPDATE").Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound()
		}
		return nil, fmt.Errorf("lock claim %d: %w", id, err)
	}
	return c, nil
}

// LockWorker serialises, until the caller's transaction ends, every
// decision that counts a person's claims (submission, approval), so two
// concurrent approvals cannot together pass a limit.
func (s Store) LockWorker(ctx context.Context, workerID int64) error {
	// A transaction-scoped advisory lock in the claims namespace: it
	// needs no row of another module's table.
	if _, err := s.db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, ?)", lockNamespace, int32(workerID%(1<<31-1))); err != nil {
		return fmt.Errorf("lock claims of worker %d: %w", workerID, err)
	}
	return nil
}

// lockNamespace is the first key of the per-worker advisory lock.
const lockNamespace = 1203080

// Filter selects claims for a list.
type Filter struct {
	Status   Status
	Subsidy  string
	WorkerID int64
	Page     int
	PerPage  int
	// AfterID, when set, resumes the list after that claim (keyset on
	// the list's order, newest first); Page is then ignored.
	AfterID int64
}

// filter applies f's conditions (not the window) to q.
func (f Filter) filter(q *bun.SelectQuery) *bun.SelectQuery {
	if f.Status != "" {
		q = q.Where("cl.status = ?", f.Status)
	}
	if f.Subsidy != "" {
		q = q.Where("cl.subsidy = ?", f.Subsidy)
	}
	if f.WorkerID != 0 {
		q = q.Where("cl.worker_id = ?", f.WorkerID)
	}
	return q
}

// List returns the claims p may see that match f, newest first: one more
// row than f.PerPage when there is a next page (web.NewListing trims it),
// and the total, exact up to pg.ExactUpTo, else the planner's estimate
// with estimate true. Errors: none of its own.
func (s Store) List(ctx context.Context, p *accounts.Principal, f Filter) (rows []Claim, total int, estimate bool, err error) {
	q := f.filter(applyScope(s.selectClaims(&rows), p, "cl")).OrderExpr("cl.id DESC").Limit(int64(f.PerPage + 1))
	if f.AfterID != 0 {
		q = q.Where("cl.id < ?", f.AfterID)
	} else if f.Page > 1 {
		q = q.Offset(int64((f.Page - 1) * f.PerPage))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, 0, false, fmt.Errorf("list claims: %w", err)
	}
	// The count reads claims alone: the names joined for display do not
	// change how many there are, and a province's count is never made.
	count := f.filter(applyScope(s.db.NewSelect().TableExpr("claims AS cl").ColumnExpr("cl.id"), p, "cl"))
	if total, estimate, err = pg.Total(ctx, s.db, count, pg.ExactUpTo); err != nil {
		return nil, 0, false, fmt.Errorf("count claims: %w", err)
	}
	return rows, total, estimate, nil
}

// Live returns the live (not rejected) claim for worker, certificate and
// subsidy, or nil.
func (s Store) Live(ctx context.Context, workerID, certID int64, subsidy string) (*Claim, error) {
	c := new(Claim)
	err := s.db.NewSelect().Model(c).Where("cl.worker_id = ? AND cl.certificate_id = ? AND cl.subsidy = ?", workerID, certID, subsidy).
		Where("cl.status <> ?", StatusRejected).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("live claim: %w", err)
	}
	return c, nil
}

// Insert stores a new claim. Errors: Conflict duplicate_claim when a live
// claim for the same person, certificate and subsidy exists.
func (s Store) Insert(ctx context.Context, c *Claim) error {
	if _, err := s.db.NewInsert().Model(c).ExcludeColumn("updated_at").Returning("id, updated_at").Exec(ctx); err != nil {
		if isUniqueViolation(err, "claims_live_key") {
			return errDuplicate()
		}
		return fmt.Errorf("insert claim: %w", err)
	}
	return nil
}

func errDuplicate() *apperr.Error {
	return apperr.Conflict("duplicate_claim", "该证书的这项补贴已经申请过，请勿重复申请")
}

// Update writes the given columns of c (and updated_at).
func (s Store) Update(ctx context.Context, c *Claim, columns ...string) error {
	_, err := s.db.NewUpdate().Model(c).Column(columns...).Set("updated_at = now()").WherePK().Exec(ctx)
	if err != nil {
		var pgErr pgdriver.Error
		if errors.As(err, &pgErr) && pgErr.Field('n') == "claims_four_eyes" {
			return errFourEyes()
		}
		return fmt.Errorf("update claim %d: %w", c.ID, err)
	}
	return nil
}

func errFourEyes() *apperr.Error {
	return apperr.Forbidden("four_eyes", "初审人不能复核同一申请，请由另一位复核人审批")
}

// Counted returns the claims of the workers that count as paid (approved,
// in notice, payable, batched, paid or returned), in any region, without
// except (a claim is never counted against itself). Occupation and level
// are filled by the caller from the certificates.
func (s Store) Counted(ctx context.Context, workerIDs []int64, except int64) ([]Counted, error) {
	var out []Counted
	if len(workerIDs) == 0 {
		return out, nil
	}
	err := s.db.NewSelect().TableExpr("claims AS cl").
		ColumnExpr("cl.id, cl.worker_id, cl.certificate_id, cl.subsidy, coalesce(cl.paid_on, cl.approved_on) AS counted_on").
		Where("cl.worker_id IN (?)", bun.In(workerIDs)).Where("cl.status IN (?)", bun.In(counted)).
		Where("cl.id <> ?", except).OrderExpr("cl.worker_id, cl.id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("counted claims: %w", err)
	}
	return out, nil
}

// EndNotices moves claims whose notice ended before today to payable and
// returns them.
func (s Store) EndNotices(ctx context.Context, today time.Time, at time.Time) ([]Claim, error) {
	var out []Claim
	_, err := s.db.NewUpdate().Model(&out).
		Set("status = ?", StatusPayable).Set("payable_at = ?", at).Set("updated_at = now()").
		Where("cl.status = ? AND cl.notice_ends_on < ?", StatusNotice, today.Format(time.DateOnly)).
		Returning("cl.*").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("end notices: %w", err)
	}
	return out, nil
}

// RejectLive rejects the worker's live claims (submitted, reviewed, in
// notice, payable) with code and reason, and returns them.
func (s Store) RejectLive(ctx context.Context, workerID int64, code, reason string, at time.Time, by int64) ([]Claim, error) {
	var out []Claim
	q := s.db.NewUpdate().Model(&out).
		Set("status = ?", StatusRejected).Set("reject_code = ?", code).Set("reject_reason = ?", reason).
		Set("rejected_at = ?", at).Set("updated_at = now()").
		Where("cl.worker_id = ? AND cl.status IN (?)", workerID, bun.In(live))
	if by != 0 {
		q = q.Set("rejected_by = ?", by)
	}
	if _, err := q.Returning("cl.*").Exec(ctx); err != nil {
		return nil, fmt.Errorf("reject claims of worker %d: %w", workerID, err)
	}
	return out, nil
}

// LockPayable locks the payable (or returned, once payable again) claims in
// the region prefix for a payout batch and returns them, oldest first. For
// the payouts module, inside its transaction.
func (s Store) LockPayable(ctx context.Context, regionPrefix string) ([]Claim, error) {
	var out []Claim
	err := s.db.NewSelect().Model(&out).Where("cl.status = ?", StatusPayable).
		Where("cl.region_code LIKE ?", regionPrefix+"%").OrderExpr("cl.id").For("UPDATE").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock payable claims: %w", err)
	}
	return out, nil
}

// Move moves the claims ids that are in status from to status to (paidOn
// is set when to is paid) and returns how many moved. For the payouts
// module, inside its transaction: batched, paid and returned.
func (s Store) Move(ctx context.Context, ids []int64, from, to Status, paidOn *time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	q := s.db.NewUpdate().TableExpr("claims AS cl").Set("status = ?", to).Set("updated_at = now()").
		Where("cl.id IN (?) AND cl.status = ?", bun.In(ids), from)
	if to == StatusPaid {
		q = q.Set("paid_on = ?", paidOn)
	} else if from == StatusPaid {
		q = q.Set("paid_on = NULL")
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("move claims %s → %s: %w", from, to, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Notice is one claim in 公示 as the public sees it.
type Notice struct {
	ID           int64     `bun:"id" json:"-"`
	WorkerName   string    `bun:"worker_name" json:"-"`
	NameMasked   string    `bun:"-" json:"name_masked"`
	RegionCode   string    `bun:"region_code" json:"region"`
	Subsidy      string    `bun:"subsidy" json:"subsidy"`
	AmountYuan   int64     `bun:"amount_yuan" json:"amount_yuan"`
	ApprovedOn   time.Time `bun:"approved_on" json:"-"`
	NoticeEndsOn time.Time `bun:"notice_ends_on" json:"-"`
}

// Notices lists the claims in 公示 in the region prefix, ending soonest first.
func (s Store) Notices(ctx context.Context, regionPrefix string, page, perPage int) ([]Notice, int, error) {
	var out []Notice
	inNotice := func() *bun.SelectQuery {
		return s.db.NewSelect().TableExpr("claims AS cl").
			Where("cl.status = ?", StatusNotice).Where("cl.region_code LIKE ?", regionPrefix+"%")
	}
	err := inNotice().
		ColumnExpr("cl.id, w.name AS worker_name, cl.region_code, cl.subsidy, cl.amount_yuan, cl.approved_on, cl.notice_ends_on").
		Join("JOIN (?) AS w ON w.id = cl.worker_id", workers.Display(s.db)).
		OrderExpr("cl.notice_ends_on, cl.id").Limit(int64(perPage)).Offset(int64((page-1)*perPage)).
		Scan(ctx, &out)
	if err != nil {
		return nil, 0, fmt.Errorf("list notices: %w", err)
	}
	// Counted from the claims alone: every claim has its worker, and the
	// join cost a worker look-up per notice in the province.
	n, err := inNotice().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count notices: %w", err)
	}
	return out, int(n), nil
}

func isUniqueViolation(err error, constraint string) bool {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('C') != "23505" {
		return false
	}
	return constraint == "" || pgErr.Field('n') == constraint
}

// dateOf is t's calendar date as a subsidies.Date.
func dateOf(t time.Time) subsidies.Date { return subsidies.DateOf(t) }
