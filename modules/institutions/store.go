package institutions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/orgs"
	"tuoyu/modules/pg"
)

// Store reads and writes the institutions table.
type Store struct{ db bun.IDB }

// NewStore returns a Store on db (the database or a transaction).
func NewStore(db bun.IDB) Store { return Store{db: db} }

// Insert stores n and sets its ID and times. Errors: Conflict uscc_taken,
// organisation_taken; Invalid validation_failed (unknown region or
// organisation).
func (s Store) Insert(ctx context.Context, n *Institution) error {
	_, err := s.db.NewInsert().Model(n).ExcludeColumn("id", "created_at", "updated_at").
		Returning("id, created_at, updated_at").Exec(ctx)
	if err != nil {
		return translate(err)
	}
	return nil
}

// InsertIfAbsent stores n unless its USCC is already registered; it reports
// whether it did. The demo seed runs it, so seeding twice changes nothing.
// Errors: Invalid validation_failed (unknown region or organisation); Conflict organisation_taken.
func (s Store) InsertIfAbsent(ctx context.Context, n *Institution) (bool, error) {
	res, err := s.db.NewInsert().Model(n).ExcludeColumn("id", "created_at", "updated_at").
		On("CONFLICT (uscc) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, translate(err)
	}
	k, _ := res.RowsAffected()
	return k == 1, nil
}

// Option is an institution as a form's select offers it.
type Option struct {
	ID   int64  `bun:"id"`
	Name string `bun:"name"`
}

// Options lists up to limit institutions by name, for selects in other
// modules' forms (the registry is public to logged-in users).
// Errors: only internal ones (database).
func (s Store) Options(ctx context.Context, limit int) ([]Option, error) {
	var out []Option
	err := s.db.NewSelect().Table("institutions").Column("id", "name").OrderExpr("name, id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("list institutions: %w", err)
	}
	return out, nil
}

// Exists reports whether institution id is registered. Errors: only internal ones (database).
func (s Store) Exists(ctx context.Context, id int64) (bool, error) {
	ok, err := s.db.NewSelect().Table("institutions").Where("id = ?", id).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("check institution %d: %w", id, err)
	}
	return ok, nil
}

// LockInScope returns institution id locked for update when scope covers it.
// Errors: NotFound institution_not_found (also outside scope).
func (s Store) LockInScope(ctx context.Context, scope accounts.Scope, id int64) (*Institution, error) {
	n := new(Institution)
	q := s.db.NewSelect().Model(n).Where("n.id = ?", id).For("UPDATE")
	if err := scope.Apply(q, accounts.ScopeColumns{Region: "n.region_code"}).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound()
		}
		return nil, fmt.Errorf("select institution %d: %w", id, err)
	}
	return n, nil
}

// Update writes every editable field of n. Errors: as Insert.
func (s Store) Update(ctx context.Context, n *Institution) error {
	_, err := s.db.NewUpdate().Model(n).
		Column("uscc", "name", "kind", "region_code", "address", "places", "filing_status", "filed_on", "revoked_on", "organisation_id").
		Set("updated_at = now()").WherePK().Exec(ctx)
	if err != nil {
		return translate(err)
	}
	return nil
}

// LinkOrganisation links the institution named name, when it has no login
// yet, to the organisation orgID. Errors: only internal ones (database).
func (s Store) LinkOrganisation(ctx context.Context, name string, orgID int64) error {
	_, err := s.db.NewUpdate().Table("institutions").Set("organisation_id = ?", orgID).
		Where("name = ? AND organisation_id IS NULL", name).Exec(ctx)
	if err != nil {
		return fmt.Errorf("link institution %s: %w", name, err)
	}
	return nil
}

// DeleteInScope removes institution id when scope's region covers it.
// Errors: NotFound institution_not_found; Conflict institution_in_use.
func (s Store) DeleteInScope(ctx context.Context, scope accounts.Scope, id int64) error {
	q := s.db.NewDelete().Model((*Institution)(nil)).Where("id = ?", id)
	if !scope.All {
		q = q.Where("region_code LIKE ?", scope.RegionPrefix+"%")
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound()
	}
	return nil
}

// ByID returns institution id with its region's name. Errors: NotFound
// institution_not_found.
func (s Store) ByID(ctx context.Context, id int64) (*Institution, error) {
	n := new(Institution)
	err := s.selectQ(n).Where("n.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound()
	}
	if err != nil {
		return nil, fmt.Errorf("select institution %d: %w", id, err)
	}
	return n, nil
}

func (s Store) selectQ(dst any) *bun.SelectQuery {
	return orgs.JoinRegionName(s.db.NewSelect().Model(dst).ColumnExpr("n.*"), "n.region_code")
}

// List returns the institutions matching f and their total, by name.
// Errors: only internal ones (database).
func (s Store) List(ctx context.Context, f Filter) ([]Institution, int, error) {
	var rows []Institution
	q := s.selectQ(&rows).OrderExpr("n.name, n.id")
	if qs := strings.TrimSpace(f.Q); qs != "" {
		if u := NormalizeUSCC(qs); ValidUSCC(u) {
			q = q.Where("n.uscc = ?", u)
		} else {
			q = q.Where("n.name LIKE ? ESCAPE '\\'", escapeLike(qs)+"%")
		}
	}
	if f.Region != "" {
		q = q.Where("n.region_code LIKE ?", accounts.RegionPrefix(f.Region)+"%")
	}
	if f.PerPage > 0 {
		page := max(f.Page, 1)
		q = q.Limit(int64(f.PerPage)).Offset(int64((page - 1) * f.PerPage))
	}
	total, err := q.ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list institutions: %w", err)
	}
	return rows, int(total), nil
}

// translate maps constraint violations to conflicts and field errors.
func translate(err error) error {
	code, name := pg.Violation(err)
	switch code + "/" + name {
	case pg.UniqueViolation + "/institutions_uscc_key":
		return apperr.Conflict("uscc_taken", "该统一社会信用代码已登记").Wrap(err)
	case pg.UniqueViolation + "/institutions_organisation_id_key":
		return apperr.Conflict("organisation_taken", "该机构账号已关联其他托育机构").Wrap(err)
	case pg.ForeignKeyViolation + "/institutions_region_code_fkey":
		return apperr.Invalid("validation_failed", "托育机构信息有误", apperr.FieldError{
			Field: "region_code", Code: "invalid_region", Message: "行政区划代码不存在"}).Wrap(err)
	case pg.ForeignKeyViolation + "/institutions_organisation_id_fkey":
		return apperr.Invalid("validation_failed", "托育机构信息有误", apperr.FieldError{
			Field: "organisation_id", Code: "unknown_organisation", Message: "关联的机构账号不存在"}).Wrap(err)
	case pg.ForeignKeyViolation + "/workers_employer_institution_id_fkey":
		return apperr.Conflict("institution_in_use", "仍有学员登记在该机构任职，不能删除").Wrap(err)
	}
	return fmt.Errorf("write institution: %w", err)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// JoinInstitution adds to q a LEFT JOIN of the institution whose id is in
// idCol (a constant of the caller's code), under alias, for lists of other
// modules that show an employer's name in the same statement.
func JoinInstitution(q *bun.SelectQuery, alias, idCol string) *bun.SelectQuery {
	return q.Join("LEFT JOIN institutions AS ? ON ?.id = ?", bun.Ident(alias), bun.Ident(alias), bun.Safe(idCol))
}

// NameOf is a scalar sub-query giving the name of the institution whose id
// is in idCol (empty when there is none): for a page of rows, cheaper to plan
// than JoinInstitution (a join is weighed against every other; the
// sub-query is a look-up by key per row), which made most of a 20-row
// list's time in the database.
func NameOf(idCol string) string {
	return "coalesce((SELECT i3.name FROM institutions i3 WHERE i3.id = " + idCol + "), '')"
}

// OrganisationOf is a scalar sub-query giving the organisation (the login)
// linked to the institution whose id is in idCol: workers puts an employee
// in the scope of their employer's staff with it.
func OrganisationOf(idCol string) string {
	return "(SELECT i2.organisation_id FROM institutions i2 WHERE i2.id = " + idCol + ")"
}

// OfOrganisation is a sub-query giving the institution linked to the
// organisation orgID (at most one): workers starts an institution's
// employee list from it, so the list reads that institution's index range
// instead of testing every worker.
func OfOrganisation(orgID int64) string {
	return fmt.Sprintf("(SELECT i2.id FROM institutions i2 WHERE i2.organisation_id = %d)", orgID)
}

// RegionsOf returns the region of each institution among ids that exists,
// in one query (bulk writes of workers derive their regions from it).
// Errors: only internal ones (database).
func (s Store) RegionsOf(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID     int64  `bun:"id"`
		Region string `bun:"region_code"`
	}
	err := s.db.NewSelect().TableExpr("institutions").ColumnExpr("id, region_code").
		Where("id IN (?)", bun.In(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("regions of %d institutions: %w", len(ids), err)
	}
	for _, r := range rows {
		out[r.ID] = r.Region
	}
	return out, nil
}
