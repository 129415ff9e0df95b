package orgs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/pg"
)

// Store reads regions and reads and writes organisations.
type Store struct{ db bun.IDB }

// NewStore returns a Store on db (the database or a transaction).
func NewStore(db bun.IDB) Store { return Store{db: db} }

// Regions returns every region ordered by code. Errors: only internal ones (database).
func (s Store) Regions(ctx context.Context) ([]Region, error) {
	var rs []Region
	err := s.db.NewSelect().Model(&rs).OrderExpr("code").Scan(ctx)
	return rs, err
}

// RegionByCode returns one region. Errors: NotFound unknown_region.
func (s Store) RegionByCode(ctx context.Context, code string) (Region, error) {
	var r Region
	err := s.db.NewSelect().Model(&r).Where("code = ?", code).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.NotFound("unknown_region", "行政区划代码不存在")
	}
	return r, err
}

// ByID returns an organisation. Errors: NotFound.
func (s Store) ByID(ctx context.Context, id int64) (Organisation, error) {
	return s.one(ctx, "o.id = ?", id)
}

// ByCode returns an organisation by its code. Errors: NotFound.
func (s Store) ByCode(ctx context.Context, code string) (Organisation, error) {
	return s.one(ctx, "o.code = ?", code)
}

func (s Store) one(ctx context.Context, where string, arg any) (Organisation, error) {
	var o Organisation
	err := s.db.NewSelect().Model(&o).ColumnExpr("o.*, r.name AS region_name").
		ModelTableExpr("organisations AS o").Join("JOIN regions AS r ON r.code = o.region_code").
		Where(where, arg).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return o, apperr.NotFound("organisation_not_found", "机构不存在")
	}
	return o, err
}

// List returns organisations of a kind (all when empty), by code.
// Errors: only internal ones (database).
func (s Store) List(ctx context.Context, kind string, limit, offset int) ([]Organisation, int, error) {
	var os []Organisation
	q := s.db.NewSelect().Model(&os).ColumnExpr("o.*, r.name AS region_name").
		ModelTableExpr("organisations AS o").Join("JOIN regions AS r ON r.code = o.region_code").OrderExpr("o.kind, o.code")
	if kind != "" {
		q = q.Where("o.kind = ?", kind)
	}
	n, err := q.Limit(int64(limit)).Offset(int64(offset)).ScanAndCount(ctx)
	return os, int(n), err
}

// Insert stores o; a taken code or credit code is a conflict. Errors: Conflict organisation_exists.
func (s Store) Insert(ctx context.Context, o *Organisation) error {
	_, err := s.db.NewInsert().Model(o).ExcludeColumn("id", "created_at", "updated_at").Returning("id, created_at, updated_at").Exec(ctx)
	if pg.IsUnique(err, "") {
		return apperr.Conflict("organisation_exists", "机构编码或统一社会信用代码已存在")
	}
	if err != nil {
		return fmt.Errorf("insert organisation %s: %w", o.Code, err)
	}
	return nil
}

// Update writes the editable fields of o. Errors: Conflict organisation_exists.
func (s Store) Update(ctx context.Context, o *Organisation) error {
	_, err := s.db.NewUpdate().Model(o).Column("name", "region_code", "uscc", "site_code", "active").
		Set("updated_at = now()").WherePK().Exec(ctx)
	if pg.IsUnique(err, "") {
		return apperr.Conflict("organisation_exists", "统一社会信用代码已被其他机构使用")
	}
	return err
}

// JoinRegionName adds to q the column region_name, the name of the region
// whose code is in codeCol (a constant of the caller's code, e.g.
// "n.region_code"): other modules' lists show region names in the same
// statement without naming this module's table themselves.
func JoinRegionName(q *bun.SelectQuery, codeCol string) *bun.SelectQuery {
	return q.ColumnExpr("coalesce(r.name, '') AS region_name").
		Join("LEFT JOIN regions AS r ON r.code = ?", bun.Safe(codeCol))
}

// JoinOrganisation adds to q a LEFT JOIN of the organisation whose id is in
// idCol (a constant of the caller's code), under alias: accounts reads a
// session's user with their organisation in one statement, which every
// authenticated request makes, so the join stays in SQL rather than becoming
// a second round trip. The caller names the columns it wants (code, name,
// kind, region_code) on alias.
func JoinOrganisation(q *bun.SelectQuery, alias, idCol string) *bun.SelectQuery {
	return q.Join("LEFT JOIN organisations AS ? ON ?.id = ?", bun.Ident(alias), bun.Ident(alias), bun.Safe(idCol))
}

// NameOf is a scalar sub-query giving the name of the organisation whose
// id is in idCol (empty when there is none): for a page of rows, cheaper to
// plan than JoinOrganisation (see institutions.NameOf).
func NameOf(idCol string) string {
	return "coalesce((SELECT o3.name FROM organisations o3 WHERE o3.id = " + idCol + "), '')"
}

// RegionsOf returns the region of each organisation among ids that exists,
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
	err := s.db.NewSelect().TableExpr("organisations").ColumnExpr("id, region_code").
		Where("id IN (?)", bun.In(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("regions of %d organisations: %w", len(ids), err)
	}
	for _, r := range rows {
		out[r.ID] = r.Region
	}
	return out, nil
}
