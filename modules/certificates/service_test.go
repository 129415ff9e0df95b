package certificates_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/certificates"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var shanghai = time.FixedZone("CST", 8*3600)

var seq atomic.Int64

// world holds the services and two providers (with site codes) of a test.
type world struct {
	t         *testing.T
	db        *bun.DB
	cipher    *pii.Cipher
	catalog   *catalog.Service
	classes   *classes.Service
	enrolment *enrolment.Service
	now       time.Time
	svc       *certificates.Service
	dataDir   string
	providerA *accounts.Principal
	providerB *accounts.Principal
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db := dbtest.DB(t)
	cipher, err := pii.New(make([]byte, pii.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.NewService(db)
	if err := cat.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, cipher: cipher, catalog: cat, now: time.Date(2026, 12, 1, 10, 0, 0, 0, shanghai), dataDir: t.TempDir()}
	w.classes = classes.NewService(db, cat, enrolment.Membership, func() time.Time { return w.now }, shanghai)
	w.enrolment = enrolment.NewService(db, w.classes, cat, cipher)
	signer, err := certificates.NewSigner(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	w.svc = certificates.NewService(certificates.Config{DB: db, Classes: w.classes, Renderer: certificates.NewRenderer(os.Getenv("TUOYU_CERT_FONT")),
		Signer: signer, BaseURL: "https://tuoyu.test", DataDir: w.dataDir, Location: shanghai,
		Now:        func() time.Time { return w.now },
		ValidYears: func(context.Context, string, time.Time) (int, error) { return 2, nil }})
	t.Cleanup(w.svc.Close)
	w.providerA = w.provider("420100")
	w.providerB = w.provider("420500")
	return w
}

func (w *world) provider(region string) *accounts.Principal {
	w.t.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	var orgID int64
	err := w.db.NewRaw("INSERT INTO organisations (code, name, kind, region_code, site_code) VALUES (?, ?, 'provider', ?, ?) RETURNING id",
		fmt.Sprintf("cp-%d-%d", n, time.Now().UnixNano()), fmt.Sprintf("测试培训机构%d", n), region, fmt.Sprintf("%06d", 10000+n)).Scan(ctx, &orgID)
	if err != nil {
		w.t.Fatal(err)
	}
	var userID int64
	err = w.db.NewRaw("INSERT INTO users (username, role, organisation_id, password_hash) VALUES (?, 'provider', ?, 'x') RETURNING id",
		fmt.Sprintf("cprov%d-%d", n, time.Now().UnixNano()), orgID).Scan(ctx, &userID)
	if err != nil {
		w.t.Fatal(err)
	}
	return &accounts.Principal{UserID: userID, Role: accounts.RoleProvider, OrgID: orgID, OrgKind: "provider", Region: region}
}

// enrolled makes a worker named name, registered by p, enrolled in a new
// class of plan, and returns what issuing needs.
func (w *world) enrolled(p *accounts.Principal, plan, name string) certificates.IssueInput {
	w.t.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	birth := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n))
	id := workers.GenerateID(rand.New(rand.NewPCG(uint64(n), uint64(time.Now().UnixNano()))), "420106", birth, workers.SexFemale)
	// Registered by the provider, so it may enrol them.
	wk, err := workers.NewService(w.db, w.cipher, func() time.Time { return w.now }).Register(ctx, p,
		workers.RegisterInput{Name: name, IDNumber: id})
	if err != nil {
		w.t.Fatal(err)
	}
	workerID := wk.ID
	early := w.now.AddDate(0, -2, 0)
	start := w.now.AddDate(0, 0, -40)
	c, err := w.classes.At(early).Create(ctx, p, classes.Input{PlanCode: plan, Name: fmt.Sprintf("测试班%d", n),
		StartsOn: start.Format(time.DateOnly), EndsOn: start.AddDate(0, 0, 10).Format(time.DateOnly), Capacity: 30,
		Region: p.Region, Place: "武汉"})
	if err != nil {
		w.t.Fatal(err)
	}
	enr := w.enrolment.At(early)
	if _, err := enr.Open(ctx, p, c.ID); err != nil {
		w.t.Fatal(err)
	}
	e, err := enr.Enrol(ctx, p, c.ID, workerID)
	if err != nil {
		w.t.Fatal(err)
	}
	return certificates.IssueInput{WorkerID: workerID, EnrolmentID: e.ID, ClassID: c.ID, ProviderOrgID: p.OrgID,
		PlanCode: plan, PassedOn: w.now.AddDate(0, 0, -20)}
}

func (w *world) issue(in certificates.IssueInput) (certificates.Certificate, error) {
	var c certificates.Certificate
	err := w.db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		c, err = w.svc.Issue(ctx, tx, in)
		return err
	})
	return c, err
}

func TestIssueNumbersAndIdempotence(t *testing.T) {
	w := newWorld(t)
	in := w.enrolled(w.providerA, "BYS-5", "吉𠮷")
	a, err := w.issue(in)
	if err != nil {
		t.Fatal(err)
	}
	var site string
	w.db.NewSelect().Table("organisations").Column("site_code").Where("id = ?", w.providerA.OrgID).Scan(context.Background(), &site)
	if a.Kind != certificates.KindSkill || len(a.Number) != 22 || a.Number[:13] != "S000042"+site || a.Number[13:16] != "265" {
		t.Fatalf("skill number %q (site %s)", a.Number, site)
	}
	if a.ExpiresOn != nil || a.IssuedOn.Format(time.DateOnly) != "2026-11-11" {
		t.Fatalf("a skill certificate never expires and is dated by the pass: %v %v", a.ExpiresOn, a.IssuedOn)
	}
	again, err := w.issue(in)
	if err != nil || again.ID != a.ID {
		t.Fatalf("issuing again: %v %d vs %d", err, again.ID, a.ID)
	}
	b, err := w.issue(w.enrolled(w.providerA, "BYS-5", "张三"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Number[:16] != a.Number[:16] || b.Number[16:] <= a.Number[16:] {
		t.Fatalf("the next serial of the prefix: %s after %s", b.Number, a.Number)
	}
	// The stored digest is the rendering's, now and later.
	pdf, err := w.svc.Render(context.Background(), a)
	if err != nil || !equalBytes(certificates.Digest(pdf), a.PDFSHA256) {
		t.Fatalf("render of an issued certificate: %v", err)
	}
}

func equalBytes(a, b []byte) bool { return string(a) == string(b) }

func TestConcurrentIssuesTakeDistinctSerials(t *testing.T) {
	w := newWorld(t)
	var ins []certificates.IssueInput
	for _, n := range []string{"甲", "乙", "丙", "丁", "戊", "己"} { // names hold no digits
		ins = append(ins, w.enrolled(w.providerB, "BYS-ZG", "并发"+n))
	}
	var wg sync.WaitGroup
	numbers := make([]string, len(ins))
	errs := make([]error, len(ins))
	for i, in := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := w.issue(in)
			numbers[i], errs[i] = c.Number, err
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, n := range numbers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[n] || len(n) != 16 {
			t.Fatalf("numbers %v", numbers)
		}
		seen[n] = true
	}
}

func TestInServiceCertificatesExpire(t *testing.T) {
	w := newWorld(t)
	c, err := w.issue(w.enrolled(w.providerA, "BYS-ZG", "王五"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != certificates.KindTraining || c.ExpiresOn == nil || c.ExpiresOn.Format(time.DateOnly) != "2028-11-11" {
		t.Fatalf("in-service certificate valid for the policy's 2 years: %v", c.ExpiresOn)
	}
	ctx := context.Background()
	if n, err := w.svc.Expire(ctx); err != nil || n != 0 {
		t.Fatalf("nothing expires yet: %d %v", n, err)
	}
	w.now = time.Date(2028, 11, 12, 9, 0, 0, 0, shanghai)
	n, err := w.svc.Expire(ctx)
	if err != nil || n < 1 {
		t.Fatalf("expire: %d %v", n, err)
	}
	a, err := w.svc.Verify(ctx, c.VerifyCode)
	if err != nil || a.Status != "expired" {
		t.Fatalf("verify after expiry: %+v %v", a, err)
	}
}

func TestRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// A name the font cannot show is refused by name, before a serial is taken.
	in := w.enrolled(w.providerA, "BYS-4", "张\U000F0041")
	_, err := w.issue(in)
	if !apperr.Is(err, "glyph_missing") {
		t.Fatalf("want glyph_missing, got %v", err)
	}
	ok, err := w.issue(w.enrolled(w.providerA, "BYS-4", "李四"))
	if err != nil || ok.Number[16:] != "000001" {
		t.Fatalf("the refused issue must not use up serial 1: %q %v", ok.Number, err)
	}
	// A banned person gets none.
	banned := w.enrolled(w.providerA, "BYS-4", "赵六")
	if _, err := w.db.NewRaw("UPDATE workers SET banned = true WHERE id = ?", banned.WorkerID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.issue(banned); !apperr.Is(err, "worker_banned") {
		t.Fatalf("want worker_banned, got %v", err)
	}
	// Issuing without the needed ids is refused.
	if _, err := w.issue(certificates.IssueInput{WorkerID: 1}); !apperr.Is(err, "invalid_issue") {
		t.Fatalf("want invalid_issue, got %v", err)
	}
}

func TestRevocation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c, err := w.issue(w.enrolled(w.providerA, "BYS-5", "钱七"))
	if err != nil {
		t.Fatal(err)
	}
	in := certificates.RevokeInput{ReasonCategory: certificates.ReasonFraud, Note: "材料造假"}
	if _, err := w.svc.Revoke(ctx, w.providerB, c.ID, in); !apperr.Is(err, "certificate_not_found") {
		t.Fatalf("another provider: %v", err)
	}
	if _, err := w.svc.Revoke(ctx, w.providerA, c.ID, in); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Revoke(ctx, w.providerA, c.ID, in); !apperr.Is(err, "already_revoked") {
		t.Fatalf("twice: %v", err)
	}
	// A ban revokes every valid certificate of the worker, in its transaction.
	d, err := w.issue(w.enrolled(w.providerA, "BYS-5", "孙八"))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	rollback := errors.New("roll back")
	err = w.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if n, err = w.svc.RevokeForBan(ctx, tx, d.WorkerID, w.now); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) || n != 1 {
		t.Fatalf("revoke for ban: %d %v", n, err)
	}
	if a, _ := w.svc.Verify(ctx, d.VerifyCode); a.Status != "valid" {
		t.Fatal("a rolled-back ban must leave the certificate valid")
	}
	if n, err := w.svc.RevokeForBan(ctx, w.db, d.WorkerID, w.now); err != nil || n != 1 {
		t.Fatalf("revoke for ban: %d %v", n, err)
	}
	a, err := w.svc.Verify(ctx, d.VerifyCode)
	if err != nil || a.Status != "revoked" || *a.RevokeReason != "banned" || *a.RevokedOn != "2026-12-01" {
		t.Fatalf("after the ban: %+v %v", a, err)
	}
}

func TestExportLifecycle(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	in := w.enrolled(w.providerA, "BYS-ZG", "周九")
	if _, err := w.issue(in); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.StartExport(ctx, w.providerB, in.ClassID); !apperr.Is(err, "class_not_found") {
		t.Fatalf("another provider's class: %v", err)
	}
	e, err := w.svc.StartExport(ctx, w.providerA, in.ClassID)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && e.Status == "running"; i++ {
		time.Sleep(20 * time.Millisecond)
		e, _ = w.svc.ExportStatus(ctx, w.providerA, e.ID)
	}
	path, _, err := w.svc.ExportFile(ctx, w.providerA, e.ID)
	if err != nil || e.Total != 1 || e.Progress != 1 {
		t.Fatalf("export: %+v %v", e, err)
	}
	if _, err := w.svc.ExportStatus(ctx, w.providerB, e.ID); !apperr.Is(err, "export_not_found") {
		t.Fatalf("someone else's export: %v", err)
	}

	// An export whose process stopped is finished by the job.
	stale := certificates.Export{ClassID: in.ClassID, RequestedBy: w.providerA.UserID, Status: "running", Total: 1, ExpiresAt: w.now.Add(24 * time.Hour)}
	if err := certificates.NewStore(w.db).InsertExport(ctx, &stale); err != nil {
		t.Fatal(err)
	}
	w.now = time.Now().Add(5 * time.Minute) // heartbeats are the database's now()
	if n, err := w.svc.ResumeInterrupted(ctx); err != nil || n != 1 {
		t.Fatalf("resume: %d %v", n, err)
	}
	if s, _ := w.svc.ExportStatus(ctx, w.providerA, stale.ID); s.Status != "done" {
		t.Fatalf("resumed export: %+v", s)
	}

	// After 24 hours both are removed, files and rows.
	w.now = time.Now().Add(25 * time.Hour)
	if n, err := w.svc.CleanExports(ctx); err != nil || n != 2 {
		t.Fatalf("clean: %d %v", n, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the ZIP should be gone: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(w.dataDir, "exports", "*.zip")); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
}

func TestTemplatesAreVersioned(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	admin := &accounts.Principal{UserID: 0, Role: accounts.RoleAdmin}
	var orgID int64
	if err := w.db.NewRaw("INSERT INTO organisations (code, name, kind, region_code) VALUES (?, '平台', 'admin', '420000') RETURNING id",
		fmt.Sprintf("cplat%d", time.Now().UnixNano())).Scan(ctx, &orgID); err != nil {
		t.Fatal(err)
	}
	if err := w.db.NewRaw("INSERT INTO users (username, role, organisation_id, password_hash) VALUES (?, 'admin', ?, 'x') RETURNING id",
		fmt.Sprintf("cadmin%d", time.Now().UnixNano()), orgID).Scan(ctx, &admin.UserID); err != nil {
		t.Fatal(err)
	}
	c, err := w.issue(w.enrolled(w.providerA, "BYS-3", "吴十"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.AddTemplate(ctx, w.providerA, certificates.TemplateInput{}); !apperr.Is(err, "forbidden_role") {
		t.Fatalf("a provider uploading a template: %v", err)
	}
	if _, err := w.svc.AddTemplate(ctx, admin, certificates.TemplateInput{Layout: "fancy"}); !apperr.Is(err, "validation_failed") {
		t.Fatalf("a bad template: %v", err)
	}
	if _, err := w.svc.AddTemplate(ctx, admin, certificates.TemplateInput{Layout: "plain", Title: "标题", IssuerName: "单位", Signatory: "签", SealPNG: []byte("not png")}); !apperr.Is(err, "invalid_seal") {
		t.Fatalf("a bad seal: %v", err)
	}
	t2, err := w.svc.AddTemplate(ctx, admin, certificates.TemplateInput{Layout: "plain", Title: "新版标题", IssuerName: "湖北省托育服务指导中心", Signatory: "主任"})
	if err != nil || t2.Version < 2 {
		t.Fatalf("new version: %+v %v", t2, err)
	}
	if _, err := w.db.NewRaw("UPDATE certificate_templates SET title = 'x' WHERE id = ?", t2.ID).Exec(ctx); err == nil {
		t.Fatal("a template version must not change")
	}
	pdf, err := w.svc.Render(ctx, c)
	if err != nil || !equalBytes(certificates.Digest(pdf), c.PDFSHA256) {
		t.Fatalf("the old certificate keeps its version: %v", err)
	}
	d, err := w.issue(w.enrolled(w.providerA, "BYS-3", "郑十一"))
	if err != nil || d.TemplateID != t2.ID {
		t.Fatalf("a new certificate uses the new version: %d vs %d (%v)", d.TemplateID, t2.ID, err)
	}
}

func TestRemindExpiringOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c, err := w.issue(w.enrolled(w.providerA, "BYS-ZG", "陈十二"))
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		n, err := w.db.NewSelect().Table("notifications").Where("worker_id = ? AND kind = 'certificates.expiring'", c.WorkerID).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	if _, err := w.svc.RemindExpiring(ctx); err != nil || count() != 0 {
		t.Fatalf("nothing to remind two years ahead: %v %d", err, count())
	}
	w.now = c.ExpiresOn.AddDate(0, 0, -20)
	for i := 0; i < 2; i++ {
		if _, err := w.svc.RemindExpiring(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if count() != 1 {
		t.Fatalf("the holder should be told once, got %d", count())
	}
}

// TestHolds: a refusal for the data holds the certificate instead of
// failing the caller's transaction; the hold is counted on each retry,
// seen by the class's provider and the holder only, and cleared by a ban
// (no certificate will come).
func TestHolds(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	in := w.enrolled(w.providerA, "BYS-4", "张\U000F0041")
	holdIn := func(in certificates.IssueInput) (*certificates.Hold, error) {
		var h *certificates.Hold
		err := w.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			var err error
			_, h, err = w.svc.IssueOrHold(ctx, tx, in)
			if err == nil {
				// The transaction goes on after the refused attempt.
				_, err = tx.NewRaw("SELECT 1").Exec(ctx)
			}
			return err
		})
		return h, err
	}
	for want := 1; want <= 2; want++ {
		h, err := holdIn(in)
		if err != nil || h == nil || h.Code != "glyph_missing" || h.Tries != want || h.HolderName != "张\U000F0041" {
			t.Fatalf("attempt %d: want a glyph_missing hold tried %d times, got %+v %v", want, want, h, err)
		}
	}
	if c, err := certificates.NewStore(w.db).ByEnrolment(ctx, in.EnrolmentID); err != nil || c != nil {
		t.Fatalf("a held enrolment has no certificate: %+v %v", c, err)
	}
	holder := &accounts.Principal{Role: accounts.RoleWorker, WorkerID: in.WorkerID}
	other := &accounts.Principal{Role: accounts.RoleWorker, WorkerID: in.WorkerID + 1_000_000}
	for _, tc := range []struct {
		who           string
		p             *accounts.Principal
		class, worker int64
		want          int
	}{
		{"the class's provider", w.providerA, in.ClassID, 0, 1},
		{"another provider", w.providerB, in.ClassID, 0, 0},
		{"the holder", holder, 0, in.WorkerID, 1},
		{"another worker", other, 0, in.WorkerID, 0},
	} {
		hs, err := w.svc.Holds(ctx, tc.p, tc.class, tc.worker)
		if err != nil || len(hs) != tc.want {
			t.Errorf("%s sees %d holds, want %d (%v)", tc.who, len(hs), tc.want, err)
		}
	}
	// An incomplete input is the caller's mistake: refused, nothing held.
	if h, err := holdIn(certificates.IssueInput{WorkerID: in.WorkerID}); !apperr.Is(err, "invalid_issue") || h != nil {
		t.Fatalf("incomplete input: want invalid_issue and no hold, got %+v %v", h, err)
	}
	if err := w.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := w.svc.RevokeForBan(ctx, tx, in.WorkerID, w.now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if hs, err := w.svc.Holds(ctx, w.providerA, in.ClassID, 0); err != nil || len(hs) != 0 {
		t.Fatalf("a ban should clear the holds: %+v %v", hs, err)
	}
}
