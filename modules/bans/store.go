package bans

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/orgs"
	"tuoyu/modules/pg"
)

// Store reads and writes the bans table.
type Store struct{ db bun.IDB }

// NewStore returns a Store on db (the database or a transaction).
func NewStore(db bun.IDB) Store { return Store{db: db} }

var scopeCols = accounts.ScopeColumns{Region: "b.region_code"}

// ActiveIdx reports whether an active ban exists on the ID number index.
// Errors: only internal ones (database).
func (s Store) ActiveIdx(ctx context.Context, idx []byte) (bool, error) {
	ok, err := s.db.NewSelect().Table("bans").Where("id_number_idx = ? AND lifted_at IS NULL", idx).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("look up ban: %w", err)
	}
	return ok, nil
}

// StateBan is the ban that carries a person's ban state: the active ban on
// the index that joins no other.
type StateBan struct {
	ID         int64  `bun:"id"`
	RegionCode string `bun:"region_code"`
}

// LockState returns the ban carrying the ban state of index idx, locked,
// or ok false when the person is not banned. Errors: only internal ones.
func (s Store) LockState(ctx context.Context, idx []byte) (StateBan, bool, error) {
	var rows []StateBan
	err := s.db.NewSelect().Table("bans").Column("id", "region_code").
		Where("id_number_idx = ? AND lifted_at IS NULL AND joins_ban_id IS NULL", idx).For("UPDATE").Scan(ctx, &rows)
	if err != nil {
		return StateBan{}, false, fmt.Errorf("look up ban state: %w", err)
	}
	if len(rows) == 0 {
		return StateBan{}, false, nil
	}
	return rows[0], true, nil
}

// LiftPerson lifts every active ban on index idx (the one state and the
// decisions joined to it), confirmed by user by on the lift request of
// ban requested (its requester and document stand for all). Errors:
// Forbidden four_eyes.
func (s Store) LiftPerson(ctx context.Context, idx []byte, requested *Ban, by int64, at time.Time) error {
	_, err := s.db.NewUpdate().Table("bans").
		Set("lift_requested_by = coalesce(lift_requested_by, ?)", requested.LiftRequestedBy).
		Set("lift_requested_at = coalesce(lift_requested_at, ?)", requested.LiftRequestedAt).
		Set("lift_document = coalesce(lift_document, ?)", requested.LiftDocument).
		Set("lifted_by = ?", by).Set("lifted_at = ?", at).
		Where("id_number_idx = ? AND lifted_at IS NULL", idx).Exec(ctx)
	if err != nil {
		return translate(err, "")
	}
	return nil
}

// ActiveAmong returns the indexes among idxs under an active ban, in one query.
// Errors: only internal ones (database).
func (s Store) ActiveAmong(ctx context.Context, idxs [][]byte) ([][]byte, error) {
	var found [][]byte
	err := s.db.NewSelect().Table("bans").Column("id_number_idx").
		Where("id_number_idx = ANY(?) AND lifted_at IS NULL", pgdialect.Array(idxs)).Scan(ctx, &found)
	if err != nil {
		return nil, fmt.Errorf("look up bans: %w", err)
	}
	return found, nil
}

// CountDecision counts the bans recorded under a decision number.
// Errors: only internal ones (database).
func (s Store) CountDecision(ctx context.Context, decisionNo string) (int, error) {
	n, err := s.db.NewSelect().Table("bans").Where("decision_no = ?", decisionNo).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count bans of decision %s: %w", decisionNo, err)
	}
	return int(n), nil
}

// Insert stores b and sets its ID and recording time. field names the form
// field of b's ID number for a clash. Errors: Conflict already_banned;
// Invalid validation_failed (region_code).
func (s Store) Insert(ctx context.Context, b *Ban, field string) error {
	_, err := s.db.NewInsert().Model(b).
		Column("id_number_enc", "id_number_idx", "id_mask", "name", "reason", "decision_no", "decided_on",
			"region_code", "primary_ban_id", "joins_ban_id", "recorded_by").
		Returning("id, recorded_at").Exec(ctx)
	if err != nil {
		return translate(err, field)
	}
	return nil
}

// SetLiftRequest records (or, with by 0, clears) a lift request of ban id.
// Errors: only internal ones (database).
func (s Store) SetLiftRequest(ctx context.Context, id, by int64, at time.Time, document, reason string) error {
	q := s.db.NewUpdate().Table("bans").Where("id = ?", id)
	if by == 0 {
		q = q.Set("lift_requested_by = NULL, lift_requested_at = NULL, lift_document = NULL, lift_reason = NULL")
	} else {
		q = q.Set("lift_requested_by = ?", by).Set("lift_requested_at = ?", at).
			Set("lift_document = ?", document).Set("lift_reason = ?", reason)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("set lift request of ban %d: %w", id, err)
	}
	return nil
}

// LockInScope reads ban id for update if scope covers it. Errors: NotFound
// ban_not_found.
func (s Store) LockInScope(ctx context.Context, scope accounts.Scope, id int64) (*Ban, error) {
	b := new(Ban)
	q := s.db.NewSelect().Model(b).Where("b.id = ?", id).For("UPDATE")
	if err := scope.Apply(q, scopeCols).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound()
		}
		return nil, fmt.Errorf("select ban %d: %w", id, err)
	}
	return b, nil
}

func (s Store) selectQ(scope accounts.Scope, dst any) *bun.SelectQuery {
	q := s.db.NewSelect().Model(dst).ColumnExpr("b.*").
		ColumnExpr("coalesce(?, '') AS recorded_by_name", accounts.UserName("b.recorded_by")).
		ColumnExpr("coalesce(?, '') AS lift_requested_by_name", accounts.UserName("b.lift_requested_by")).
		ColumnExpr("coalesce(?, '') AS lifted_by_name", accounts.UserName("b.lifted_by"))
	return scope.Apply(orgs.JoinRegionName(q, "b.region_code"), scopeCols)
}

// ByID returns ban id if scope covers it. Errors: NotFound ban_not_found.
func (s Store) ByID(ctx context.Context, scope accounts.Scope, id int64) (*Ban, error) {
	b := new(Ban)
	if err := s.selectQ(scope, b).Where("b.id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound()
		}
		return nil, fmt.Errorf("select ban %d: %w", id, err)
	}
	return b, nil
}

// Decision returns the bans of the decision whose first ban is primary, in
// scope, subject first. Errors: only internal ones (database).
func (s Store) Decision(ctx context.Context, scope accounts.Scope, primary int64) ([]Ban, error) {
	var rows []Ban
	err := s.selectQ(scope, &rows).Where("b.id = ? OR b.primary_ban_id = ?", primary, primary).OrderExpr("b.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select decision of ban %d: %w", primary, err)
	}
	return rows, nil
}

// List returns the bans in scope matching f, newest first, and the total;
// idx, when not nil, is the blind index of the ID number f.Q names.
// Errors: only internal ones (database).
func (s Store) List(ctx context.Context, scope accounts.Scope, f Filter, idx []byte) ([]Ban, int, error) {
	var rows []Ban
	q := s.selectQ(scope, &rows).OrderExpr("b.id DESC")
	switch qs := strings.TrimSpace(f.Q); {
	case idx != nil:
		q = q.Where("b.id_number_idx = ?", idx)
	case qs != "":
		q = q.Where("b.name LIKE ? ESCAPE '\\'", strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(qs)+"%")
	}
	switch f.Status {
	case StatusActive:
		q = q.Where("b.lifted_at IS NULL AND b.lift_requested_at IS NULL")
	case StatusLiftRequested:
		q = q.Where("b.lifted_at IS NULL AND b.lift_requested_at IS NOT NULL")
	case StatusLifted:
		q = q.Where("b.lifted_at IS NOT NULL")
	}
	if f.PerPage > 0 {
		q = q.Limit(int64(f.PerPage)).Offset(int64((max(f.Page, 1) - 1) * f.PerPage))
	}
	total, err := q.ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list bans: %w", err)
	}
	return rows, int(total), nil
}

// translate maps constraint violations of the bans table.
func translate(err error, field string) error {
	code, name := pg.Violation(err)
	switch code + "/" + name {
	case pg.UniqueViolation + "/bans_active_idx":
		e := apperr.Conflict("already_banned", "该身份证号已在终身禁入名单中").Wrap(err)
		e.Fields = []apperr.FieldError{{Field: field, Code: "already_banned", Message: "该身份证号已在终身禁入名单中"}}
		return e
	case pg.CheckViolation + "/bans_lift_four_eyes":
		return fourEyes().Wrap(err)
	case pg.ForeignKeyViolation + "/bans_region_code_fkey":
		return apperr.Invalid("validation_failed", "禁入记录有误", apperr.FieldError{
			Field: "region_code", Code: "invalid_region", Message: "行政区划代码不存在"}).Wrap(err)
	}
	return fmt.Errorf("write ban: %w", err)
}

// ActiveIndexes selects the ID number indexes under an active ban
// (column id_number_idx), for a statement of another module that checks
// many people at once (a roster commit's re-check).
func ActiveIndexes(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("bans").Column("id_number_idx").Where("lifted_at IS NULL")
}
