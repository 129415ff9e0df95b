package certificates

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
	"tuoyu/modules/pg"
)

// Store reads and writes certificates, templates, serial counters, signing
// keys and exports, on the database or inside a transaction.
type Store struct{ db bun.IDB }

// NewStore returns a store working on db.
func NewStore(db bun.IDB) Store { return Store{db: db} }

func errNotFound() *apperr.Error {
	return apperr.NotFound("certificate_not_found", "证书不存在")
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// scopeColumns: workers see their own, providers those they issued, HR
// and regulators those of workers in their region (at issue), admins all.
var scopeColumns = accounts.ScopeColumns{Region: "ce.region_code", Org: "ce.provider_org_id", Worker: "ce.worker_id"}

// ByID returns certificate id. Errors: NotFound certificate_not_found.
func (s Store) ByID(ctx context.Context, id int64) (Certificate, error) {
	return s.one(ctx, s.db.NewSelect().Where("ce.id = ?", id))
}

// ForCaller returns certificate id if p may see it. Errors: NotFound
// certificate_not_found (also outside scope).
func (s Store) ForCaller(ctx context.Context, p *accounts.Principal, id int64) (Certificate, error) {
	q := p.Scope().Apply(s.db.NewSelect(), scopeColumns)
	return s.one(ctx, q.Where("ce.id = ?", id))
}

// ByCode returns the certificate with verify code code. Errors: NotFound.
func (s Store) ByCode(ctx context.Context, code string) (Certificate, error) {
	return s.one(ctx, s.db.NewSelect().Where("ce.verify_code = ?", code))
}

// BySHA256 returns the certificate whose PDF has digest sum. Errors: NotFound.
func (s Store) BySHA256(ctx context.Context, sum []byte) (Certificate, error) {
	return s.one(ctx, s.db.NewSelect().Where("ce.pdf_sha256 = ?", sum))
}

// ByEnrolment returns the certificate that stands for enrolment id, if
// any: one revoked as issued in error does not (the enrolment may get a
// new one when its result is corrected back to a pass).
func (s Store) ByEnrolment(ctx context.Context, enrolmentID int64) (*Certificate, error) {
	c, err := s.one(ctx, s.db.NewSelect().Where("ce.enrolment_id = ?", enrolmentID).
		Where("NOT (ce.status = ? AND ce.revoke_reason = ?)", StatusRevoked, ReasonIssuedInError))
	if apperr.Is(err, "certificate_not_found") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (s Store) one(ctx context.Context, q *bun.SelectQuery) (Certificate, error) {
	var c Certificate
	err := q.Model(&c).Limit(1).Scan(ctx)
	if isNoRows(err) {
		return Certificate{}, errNotFound()
	}
	if err != nil {
		return Certificate{}, fmt.Errorf("certificate: %w", err)
	}
	return c, nil
}

// Filter selects certificates for a list.
type Filter struct {
	ClassID  int64
	WorkerID int64
	Status   Status
	Limit    int
	Offset   int
	// AfterIssuedOn and AfterID, when AfterID is set, resume the list after
	// that certificate (keyset pagination on the list's order).
	AfterIssuedOn time.Time
	AfterID       int64
}

// scoped adds p's scope and f's conditions to q (alias ce). A city and a
// district are written so that they start from an index holding their
// certificates in list order (migration certificates_list_indexes).
func scoped(q *bun.SelectQuery, p *accounts.Principal, f Filter) *bun.SelectQuery {
	sc := p.Scope()
	switch {
	case !sc.All && len(sc.RegionPrefix) == 4:
		q = q.Where("left(ce.region_code, 4) = ?", sc.RegionPrefix)
	case !sc.All && len(sc.RegionPrefix) == 6:
		q = q.Where("ce.region_code = ?", sc.RegionPrefix)
	default:
		q = sc.Apply(q, scopeColumns)
	}
	if f.ClassID != 0 {
		q = q.Where("ce.class_id = ?", f.ClassID)
	}
	if f.WorkerID != 0 {
		q = q.Where("ce.worker_id = ?", f.WorkerID)
	}
	if f.Status != "" {
		q = q.Where("ce.status = ?", f.Status)
	}
	return q
}

// List returns a page of the certificates p may see that match f, newest
// first (issued_on, then id, so a cursor resumes it from an index), with
// the total: exact up to pg.ExactUpTo, else the planner's estimate
// (estimate true). Errors: none of its own (database failures only).
func (s Store) List(ctx context.Context, p *accounts.Principal, f Filter) (cs []Certificate, total int, estimate bool, err error) {
	q := scoped(s.db.NewSelect().Model(&cs), p, f)
	if f.AfterID != 0 {
		q = q.Where("(ce.issued_on, ce.id) < (?::date, ?)", f.AfterIssuedOn.Format(time.DateOnly), f.AfterID)
		f.Offset = 0
	}
	if f.Limit <= 0 {
		f.Limit = 20
	}
	err = q.OrderExpr("ce.issued_on DESC, ce.id DESC").Limit(int64(f.Limit)).Offset(int64(f.Offset)).Scan(ctx)
	if err != nil {
		return nil, 0, false, fmt.Errorf("list certificates: %w", err)
	}
	count := scoped(s.db.NewSelect().TableExpr("certificates AS ce").ColumnExpr("ce.id"), p, f)
	if total, estimate, err = pg.Total(ctx, s.db, count, pg.ExactUpTo); err != nil {
		return nil, 0, false, fmt.Errorf("count certificates: %w", err)
	}
	return cs, total, estimate, nil
}

// ClassIDs returns the ids of the certificates of class id that are not
// revoked (what a class ZIP holds), in number order.
func (s Store) ClassIDs(ctx context.Context, classID int64) ([]int64, error) {
	var ids []int64
	err := s.db.NewSelect().Table("certificates").Column("id").
		Where("class_id = ? AND status <> 'revoked' AND source = 'issued'", classID).
		OrderExpr("number").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("certificates of class %d: %w", classID, err)
	}
	return ids, nil
}

// ByIDs returns certificates by id, in the order of ids.
func (s Store) ByIDs(ctx context.Context, ids []int64) ([]Certificate, error) {
	var cs []Certificate
	if len(ids) == 0 {
		return nil, nil
	}
	if err := s.db.NewSelect().Model(&cs).Where("ce.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	pos := make(map[int64]int, len(ids))
	for i, id := range ids {
		pos[id] = i
	}
	out := make([]Certificate, len(ids))
	for _, c := range cs {
		out[pos[c.ID]] = c
	}
	return out, nil
}

// NextSerial takes the next serial of prefix, inside the caller's
// transaction: the counter row stays locked until it commits, so two
// issuers never take the same serial, and a rolled-back issue takes none.
func (s Store) NextSerial(ctx context.Context, prefix string) (int64, error) {
	var v int64
	err := s.db.NewRaw(`INSERT INTO certificate_serials (prefix, last_value) VALUES (?, 1)
		ON CONFLICT (prefix) DO UPDATE SET last_value = certificate_serials.last_value + 1
		RETURNING last_value`, prefix).Scan(ctx, &v)
	if err != nil {
		return 0, fmt.Errorf("next serial of %s: %w", prefix, err)
	}
	return v, nil
}

// EnsureKey records a signing key's public half (kept for ever).
func (s Store) EnsureKey(ctx context.Context, keyID string, pub []byte) error {
	_, err := s.db.NewRaw(`INSERT INTO certificate_signing_keys (key_id, public_key) VALUES (?, ?)
		ON CONFLICT (key_id) DO NOTHING`, keyID, pub).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record signing key %s: %w", keyID, err)
	}
	return nil
}

// SigningKey is a stored public key.
type SigningKey struct {
	KeyID     string    `bun:"key_id"`
	PublicKey []byte    `bun:"public_key"`
	CreatedAt time.Time `bun:"created_at"`
}

// Keys returns every public key that ever signed, oldest first.
func (s Store) Keys(ctx context.Context) ([]SigningKey, error) {
	var ks []SigningKey
	err := s.db.NewSelect().Table("certificate_signing_keys").Column("key_id", "public_key", "created_at").
		OrderExpr("created_at, key_id").Scan(ctx, &ks)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return ks, nil
}

// Insert stores a new certificate. Errors: Conflict duplicate_number.
func (s Store) Insert(ctx context.Context, c *Certificate) error {
	_, err := s.db.NewInsert().Model(c).ExcludeColumn("id", "created_at").Returning("id, created_at").Exec(ctx)
	if err != nil {
		return translate(err)
	}
	return nil
}

// Revoke marks certificate id revoked unless it already is; ok is false
// when it was.
func (s Store) Revoke(ctx context.Context, id int64, reason, note string, on time.Time, by int64) (bool, error) {
	res, err := s.db.NewUpdate().Table("certificates").
		Set("status = 'revoked'").Set("revoked_on = ?", on).Set("revoke_reason = ?", reason).
		Set("revoke_note = ?", note).Set("revoked_by = ?", nullID(by)).
		Where("id = ? AND status <> 'revoked'", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("revoke certificate %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RevokeWorker revokes every valid certificate of worker id with reason;
// it returns their ids.
func (s Store) RevokeWorker(ctx context.Context, workerID int64, reason string, on time.Time) ([]int64, error) {
	var ids []int64
	err := s.db.NewUpdate().Table("certificates").
		Set("status = 'revoked'").Set("revoked_on = ?", on).Set("revoke_reason = ?", reason).
		Where("worker_id = ? AND status = 'valid'", workerID).Returning("id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("revoke certificates of worker %d: %w", workerID, err)
	}
	return ids, nil
}

// Expire marks valid certificates whose last day was before today
// expired, and returns how many.
func (s Store) Expire(ctx context.Context, today time.Time) (int, error) {
	res, err := s.db.NewUpdate().Table("certificates").Set("status = 'expired'").
		Where("status = 'valid' AND expires_on < ?", today).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("expire certificates: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CurrentTemplate returns the newest template version. Errors: NotFound
// template_not_found.
func (s Store) CurrentTemplate(ctx context.Context) (Template, error) {
	var t Template
	err := s.db.NewSelect().Model(&t).OrderExpr("ct.version DESC").Limit(1).Scan(ctx)
	if isNoRows(err) {
		return Template{}, apperr.NotFound("template_not_found", "证书模板不存在")
	}
	if err != nil {
		return Template{}, fmt.Errorf("current template: %w", err)
	}
	return t, nil
}

// Template returns template id. Errors: NotFound template_not_found.
func (s Store) Template(ctx context.Context, id int64) (Template, error) {
	var t Template
	err := s.db.NewSelect().Model(&t).Where("ct.id = ?", id).Scan(ctx)
	if isNoRows(err) {
		return Template{}, apperr.NotFound("template_not_found", "证书模板不存在")
	}
	if err != nil {
		return Template{}, fmt.Errorf("template %d: %w", id, err)
	}
	return t, nil
}

// Templates returns every template version, newest first.
func (s Store) Templates(ctx context.Context) ([]Template, error) {
	var ts []Template
	if err := s.db.NewSelect().Model(&ts).OrderExpr("ct.version DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return ts, nil
}

// InsertTemplate stores t as the next version (numbered here under a lock
// of the table's newest row). Errors: Conflict template_version_taken when
// another upload took the number at the same moment.
func (s Store) InsertTemplate(ctx context.Context, t *Template) error {
	if t.Version == 0 {
		// Uploads queue here, so two at once cannot take one number.
		if _, err := s.db.ExecContext(ctx, "LOCK TABLE certificate_templates IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("lock templates: %w", err)
		}
		var v int
		if err := s.db.NewSelect().Table("certificate_templates").ColumnExpr("coalesce(max(version), 0) + 1").Scan(ctx, &v); err != nil {
			return fmt.Errorf("next template version: %w", err)
		}
		t.Version = v
	}
	_, err := s.db.NewInsert().Model(t).ExcludeColumn("id", "created_at").Returning("id, created_at").Exec(ctx)
	if err != nil {
		var pgErr pgdriver.Error
		if errors.As(err, &pgErr) && pgErr.Field('C') == "23505" {
			return apperr.Conflict("template_version_taken", "另一个模板版本刚刚上传，请重试").Wrap(err)
		}
		return fmt.Errorf("insert template: %w", err)
	}
	return nil
}

// InsertExport stores a new export.
func (s Store) InsertExport(ctx context.Context, e *Export) error {
	_, err := s.db.NewInsert().Model(e).ExcludeColumn("id", "created_at", "heartbeat_at").
		Returning("id, created_at, heartbeat_at").Exec(ctx)
	if err != nil {
		return fmt.Errorf("insert export: %w", err)
	}
	return nil
}

// Export returns export id. Errors: NotFound export_not_found.
func (s Store) Export(ctx context.Context, id int64) (Export, error) {
	var e Export
	err := s.db.NewSelect().Model(&e).Where("cx.id = ?", id).Scan(ctx)
	if isNoRows(err) {
		return Export{}, apperr.NotFound("export_not_found", "导出任务不存在")
	}
	if err != nil {
		return Export{}, fmt.Errorf("export %d: %w", id, err)
	}
	return e, nil
}

// ExportProgress stores how far export id got, and that it is alive.
func (s Store) ExportProgress(ctx context.Context, id int64, progress, total int) error {
	_, err := s.db.NewUpdate().Table("certificate_exports").
		Set("progress = ?, total = ?, heartbeat_at = now()", progress, total).
		Where("id = ? AND status = 'running'", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("export %d progress: %w", id, err)
	}
	return nil
}

// FinishExport marks export id done with its file.
func (s Store) FinishExport(ctx context.Context, id int64, file string, total int, at time.Time) error {
	_, err := s.db.NewUpdate().Table("certificate_exports").
		Set("status = 'done', progress = ?, total = ?, file_name = ?, finished_at = ?, heartbeat_at = now()", total, total, file, at).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("finish export %d: %w", id, err)
	}
	return nil
}

// FailExport marks export id failed with a reason.
func (s Store) FailExport(ctx context.Context, id int64, reason string) error {
	_, err := s.db.NewUpdate().Table("certificate_exports").
		Set("status = 'failed', error = ?, finished_at = now()", reason).
		Where("id = ? AND status = 'running'", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("fail export %d: %w", id, err)
	}
	return nil
}

// StaleExports returns running exports whose last sign of life is older
// than before: their process stopped.
func (s Store) StaleExports(ctx context.Context, before time.Time) ([]Export, error) {
	var es []Export
	err := s.db.NewSelect().Model(&es).Where("cx.status = 'running' AND cx.heartbeat_at < ?", before).
		OrderExpr("cx.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("stale exports: %w", err)
	}
	return es, nil
}

// ClaimStale takes over stale export id by renewing its heartbeat; ok is
// false when another instance was faster.
func (s Store) ClaimStale(ctx context.Context, id int64, before time.Time) (bool, error) {
	res, err := s.db.NewUpdate().Table("certificate_exports").Set("heartbeat_at = now()").
		Where("id = ? AND status = 'running' AND heartbeat_at < ?", id, before).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("claim export %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteExpiredExports removes the exports kept past their time and
// returns them (their files are the caller's to remove).
func (s Store) DeleteExpiredExports(ctx context.Context, now time.Time) ([]Export, error) {
	var es []Export
	err := s.db.NewDelete().Model(&es).Where("expires_at < ?", now).Returning("*").Scan(ctx)
	if err != nil && !isNoRows(err) {
		return nil, fmt.Errorf("delete expired exports: %w", err)
	}
	return es, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// translate turns the constraint violations that carry a domain meaning
// into apperr values.
func translate(err error) error {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Field('n') {
	case "certificates_number_key":
		return apperr.Conflict("duplicate_number", "证书编号已存在").Wrap(err)
	case "certificates_enrolment_key":
		return apperr.Conflict("already_issued", "该报名已发证").Wrap(err)
	}
	return err
}

// InsertDefaultTemplate stores t as version 1 unless a version 1 exists.
func (s Store) InsertDefaultTemplate(ctx context.Context, t Template) error {
	_, err := s.db.NewRaw(`INSERT INTO certificate_templates (version, layout, title, issuer_name, signatory, note)
		VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (version) DO NOTHING`,
		t.Layout, t.Title, t.IssuerName, t.Signatory, t.Note).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store default template: %w", err)
	}
	return nil
}

// Expiring returns the valid certificates whose last day lies in
// [from, to], oldest expiry first.
func (s Store) Expiring(ctx context.Context, from, to time.Time) ([]Certificate, error) {
	var cs []Certificate
	err := s.db.NewSelect().Model(&cs).Where("ce.status = 'valid' AND ce.expires_on BETWEEN ? AND ?", from, to).
		OrderExpr("ce.expires_on, ce.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("expiring certificates: %w", err)
	}
	return cs, nil
}
