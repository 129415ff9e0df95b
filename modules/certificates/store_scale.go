package certificates

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"tuoyu/modules/catalog"
	"tuoyu/modules/pg"
)

// ScaleSources are the sub-queries the scale seed's certificates are drawn
// from, each of its owning module: the certified enrolments (enrolment_id,
// passed_on), the enrolments, classes, plans, workers and providers they
// copy, and the plan versions' courses for the hours.
type ScaleSources struct {
	Certified, Enrolments, Classes, Plans, Holders, Providers, Courses *bun.SelectQuery
}

// scaleRow is a certificate to issue as the draft query gives it.
type scaleRow struct {
	EnrolmentID   int64         `bun:"enrolment_id"`
	WorkerID      int64         `bun:"worker_id"`
	ClassID       int64         `bun:"class_id"`
	ProviderOrgID int64         `bun:"provider_org_id"`
	RegionCode    string        `bun:"region_code"`
	PlanCode      string        `bun:"plan_code"`
	PlanName      string        `bun:"plan_name"`
	Occupation    string        `bun:"occupation"`
	Level         *int          `bun:"level"`
	Purpose       string        `bun:"purpose"`
	Hours         catalog.Hours `bun:"hours"`
	HolderName    string        `bun:"holder_name"`
	HolderIDMask  string        `bun:"holder_id_mask"`
	IssuerName    string        `bun:"issuer_name"`
	IssuedOn      time.Time     `bun:"issued_on"`
	Prefix        string        `bun:"prefix"`
	Number        string        `bun:"number"`
}

// scaleDrafts selects the certificates of src.Certified that have none
// yet, in enrolment order, with their number prefix: skill certificates
// (plans with a level) under the provider's site code, the others HBTY +
// year. ScaleNumbers numbers them.
func scaleDrafts(ctx context.Context, db bun.IDB, src ScaleSources) ([]scaleRow, error) {
	var rows []scaleRow
	err := db.NewRaw(`
		SELECT d.* FROM (SELECT p.enrolment_id, e.worker_id, e.class_id, cl.provider_org_id, w.region_code,
				pf.code AS plan_code, pf.name AS plan_name, pf.occupation, pf.level, pf.purpose,
				coalesce(h.hours, 0) AS hours, w.name AS holder_name, w.id_mask AS holder_id_mask,
				o.name AS issuer_name, p.passed_on AS issued_on,
				CASE WHEN pf.level IS NULL THEN 'HBTY' || to_char(p.passed_on, 'YYYY')
					ELSE 'S000042' || o.site_code || to_char(p.passed_on, 'YY') || pf.level END AS prefix
			FROM (SELECT DISTINCT ON (enrolment_id) * FROM (?) AS c ORDER BY enrolment_id, passed_on) AS p
			JOIN (?) AS e ON e.id = p.enrolment_id
			JOIN (?) AS cl ON cl.id = e.class_id
			JOIN (?) AS pf ON pf.id = cl.plan_id
			JOIN (?) AS w ON w.id = e.worker_id
			JOIN (?) AS o ON o.id = cl.provider_org_id
			LEFT JOIN (SELECT plan_version_id, sum(required_hours) AS hours FROM (?) AS vc GROUP BY plan_version_id) AS h
				ON h.plan_version_id = e.plan_version_id
			WHERE NOT EXISTS (SELECT 1 FROM certificates AS x WHERE x.enrolment_id = p.enrolment_id)) AS d
		ORDER BY d.enrolment_id`,
		src.Certified, src.Enrolments, src.Classes, src.Plans, src.Holders, src.Providers, src.Courses).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("draft scale certificates: %w", err)
	}
	return rows, nil
}

// lastSerials reads every number prefix's counter.
func lastSerials(ctx context.Context, db bun.IDB) (map[string]int64, error) {
	var rows []struct {
		Prefix    string `bun:"prefix"`
		LastValue int64  `bun:"last_value"`
	}
	if err := db.NewSelect().TableExpr("certificate_serials").Column("prefix", "last_value").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read certificate serials: %w", err)
	}
	last := make(map[string]int64, len(rows))
	for _, r := range rows {
		last[r.Prefix] = r.LastValue
	}
	return last, nil
}

// scaleColumns are the columns copyScale writes.
const scaleColumns = `kind, source, number, verify_code, worker_id, enrolment_id, class_id, provider_org_id,
	region_code, plan_code, plan_name, occupation, level, hours, holder_name, holder_id_mask, issuer_name,
	issued_on, issued_at, expires_on, verify_url, template_id, pdf_sha256, signature, key_id, status,
	revoked_on, revoke_reason`

// copyScale writes cs with one COPY on conn (the transaction's).
func copyScale(ctx context.Context, conn bun.Conn, cs []Certificate) error {
	return pg.CopyFrom(ctx, conn, "COPY certificates ("+scaleColumns+") FROM STDIN", func(w *pg.CopyWriter) error {
		for i := range cs {
			c := &cs[i]
			w.Text(string(c.Kind))
			w.Text(string(c.Source))
			w.Text(c.Number)
			w.Text(c.VerifyCode)
			w.Int(c.WorkerID)
			w.Int(c.EnrolmentID)
			w.Int(c.ClassID)
			w.Int(c.ProviderOrgID)
			w.Text(c.RegionCode)
			w.Text(c.PlanCode)
			w.Text(c.PlanName)
			w.Text(c.Occupation)
			if c.Level != nil {
				w.Int(int64(*c.Level))
			} else {
				w.Null()
			}
			w.Text(c.Hours.String())
			w.Text(c.HolderName)
			w.Text(c.HolderIDMask)
			w.Text(c.IssuerName)
			w.Date(&c.IssuedOn)
			w.Text(c.IssuedAt.UTC().Format(time.RFC3339))
			w.Date(c.ExpiresOn)
			w.Text(c.VerifyURL)
			w.Int(c.TemplateID)
			w.Bytea(c.PDFSHA256)
			w.Bytea(c.Signature)
			w.Text(c.KeyID)
			w.Text(string(c.Status))
			w.Date(c.RevokedOn)
			w.NullText(c.RevokeReason, c.RevokeReason == "")
			if err := w.End(); err != nil {
				return err
			}
		}
		return nil
	})
}

// raiseSerials moves each prefix's counter up to the highest serial used.
func raiseSerials(ctx context.Context, db bun.IDB, last map[string]int64) error {
	// In prefix order: transactions raising the same counters at once then
	// lock their rows in the same order and cannot deadlock.
	prefixes := slices.Sorted(maps.Keys(last))
	values := make([]int64, len(prefixes))
	for i, p := range prefixes {
		values[i] = last[p]
	}
	_, err := db.NewRaw(`INSERT INTO certificate_serials (prefix, last_value)
		SELECT * FROM unnest(?::text[], ?::bigint[])
		ON CONFLICT (prefix) DO UPDATE SET last_value = greatest(certificate_serials.last_value, EXCLUDED.last_value)`,
		pgdialect.Array(prefixes), pgdialect.Array(values)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("raise certificate serials: %w", err)
	}
	return nil
}

// freshSerials selects per number prefix the highest serial the
// certificates use.
func freshSerials(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("certificates").
		ColumnExpr("left(number, length(number) - CASE kind WHEN 'skill' THEN 6 ELSE 8 END) AS prefix").
		ColumnExpr("max(right(number, CASE kind WHEN 'skill' THEN 6 ELSE 8 END)::bigint) AS last_value").
		Where("source = 'issued'").GroupExpr("1")
}

// SerialMismatches counts the number prefixes whose counter is below the
// highest serial issued under them (a later issue would reuse a number):
// the scale seed's test. Errors: only internal ones (database).
func SerialMismatches(ctx context.Context, db bun.IDB) (int, error) {
	n, err := db.NewSelect().TableExpr("(?) AS f", freshSerials(db)).
		Join("LEFT JOIN certificate_serials AS cs ON cs.prefix = f.prefix").
		Where("coalesce(cs.last_value, 0) < f.last_value").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("compare certificate serials: %w", err)
	}
	return int(n), nil
}

// Analyze refreshes the planner's statistics of this module's tables
// after the scale seed's bulk load. Errors: only internal ones (database).
func Analyze(ctx context.Context, db bun.IDB) error {
	if _, err := db.ExecContext(ctx, "ANALYZE certificates, certificate_serials"); err != nil {
		return fmt.Errorf("analyze certificates, certificate_serials: %w", err)
	}
	return nil
}

// RecentHolders returns the workers with ids in [fromID, toID] and id %
// every = 0 who hold a certificate issued since since: the scale seed's
// sample for the eligibility refresh. Errors: only internal ones
// (database).
func RecentHolders(ctx context.Context, db bun.IDB, since time.Time, every, fromID, toID int64) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().TableExpr("certificates").ColumnExpr("DISTINCT worker_id").
		Where("issued_on >= ? AND worker_id BETWEEN ? AND ? AND worker_id % ? = 0", since.Format(time.DateOnly), fromID, toID, every).
		OrderExpr("worker_id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("holders of recent certificates: %w", err)
	}
	return ids, nil
}

// AnyForEnrolments reports whether an enrolment with id in [fromID, toID]
// in a class of providers holds a certificate: how a rerun of the scale
// seed knows a range is done (each is issued in one transaction).
// Errors: only internal ones (database).
func AnyForEnrolments(ctx context.Context, db bun.IDB, providers []int64, fromID, toID int64) (bool, error) {
	ok, err := db.NewSelect().TableExpr("certificates").Where("enrolment_id BETWEEN ? AND ?", fromID, toID).
		Where("provider_org_id = ANY(?)", pgdialect.Array(providers)).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("certificates of enrolments %d–%d: %w", fromID, toID, err)
	}
	return ok, nil
}

// ScaleClaimable selects the certificates a scale claim may be filed for
// (id, worker_id, region_code, level, issued_on), for claims.GenerateScale.
func ScaleClaimable(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("certificates").
		Column("id", "worker_id", "region_code", "level", "issued_on").
		Where("status <> 'revoked'")
}
