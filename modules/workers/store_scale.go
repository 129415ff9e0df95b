package workers

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"tuoyu/modules/institutions"
	"tuoyu/modules/orgs"
	"tuoyu/modules/pg"
)

// CopyScale writes ws, all new people, with one COPY with the table's
// triggers and foreign-key checks off (pg.Replica): the scale seed's path.
// The triggers would set region_code and banned; ws carry their region
// (RegionCode, as workers_set_region would derive it) and nobody generated
// is banned. RebuildScale then repairs, set-based, any row where either
// differs from a fresh computation. A repeated ID number still fails the
// batch (unique index). Errors: only internal ones (database).
func CopyScale(ctx context.Context, db *bun.DB, ws []Worker) error {
	return pg.Replica(ctx, db, func(ctx context.Context, conn bun.Conn, _ bun.Tx) error {
		return pg.CopyFrom(ctx, conn, "COPY workers ("+copyColumns+") FROM STDIN", func(c *pg.CopyWriter) error {
			for i := range ws {
				copyRow(c, &ws[i]) // region_code included: ws carry it
				if err := c.End(); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// freshDerived selects, for the workers with ids in [fromID, toID], the
// region and ban flag the insert triggers (workers_set_region,
// workers_banned_on_insert) compute: the employer's region, else the
// college's, else the ID number's area in Hubei; banned when an unlifted
// ban (unlifted: bans.Unlifted, id_number_idx) names the ID number.
func freshDerived(db bun.IDB, unlifted *bun.SelectQuery, fromID, toID int64) *bun.SelectQuery {
	q := db.NewSelect().TableExpr("workers AS w").ColumnExpr("w.id").
		ColumnExpr("COALESCE(i.region_code, o.region_code, CASE WHEN w.id_area_code LIKE '42%' THEN w.id_area_code END) AS region_code").
		ColumnExpr("EXISTS (SELECT 1 FROM (?) AS b WHERE b.id_number_idx = w.id_number_idx) AS banned", unlifted).
		Where("w.id BETWEEN ? AND ?", fromID, toID)
	q = institutions.JoinInstitution(q, "i", "w.employer_institution_id")
	return orgs.JoinOrganisation(q, "o", "w.college_org_id")
}

// RebuildScale sets region_code and banned of the workers with ids in
// [fromID, toID] to what the insert triggers would have computed, where
// they differ (none, after a correct CopyScale), and returns how many it
// changed. Errors: only internal ones (database).
func RebuildScale(ctx context.Context, db bun.IDB, unlifted *bun.SelectQuery, fromID, toID int64) (int, error) {
	res, err := db.NewRaw(`UPDATE workers AS w SET region_code = f.region_code, banned = f.banned
		FROM (?) AS f
		WHERE w.id = f.id AND (w.region_code, w.banned) IS DISTINCT FROM (f.region_code, f.banned)`,
		freshDerived(db, unlifted, fromID, toID)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("rebuild region and ban flag of workers %d–%d: %w", fromID, toID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DerivedMismatches counts the workers with ids in [fromID, toID] whose
// region or ban flag differs from a fresh computation: the scale seed's
// test. Errors: only internal ones (database).
func DerivedMismatches(ctx context.Context, db bun.IDB, unlifted *bun.SelectQuery, fromID, toID int64) (int, error) {
	n, err := db.NewSelect().TableExpr("workers AS w").
		Join("JOIN (?) AS f ON f.id = w.id", freshDerived(db, unlifted, fromID, toID)).
		Where("(w.region_code, w.banned) IS DISTINCT FROM (f.region_code, f.banned)").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("compare derived worker columns: %w", err)
	}
	return int(n), nil
}

// Holders selects what a certificate copies of each worker (id, name,
// id_mask, region_code): a sub-query for the scale seed's certificates.
func Holders(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("workers").Column("id", "name", "id_mask", "region_code")
}
