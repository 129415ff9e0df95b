package claims_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/calendar"
	"tuoyu/modules/certificates"
	"tuoyu/modules/claims"
	"tuoyu/modules/subsidies"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var shanghai = time.FixedZone("CST", 8*3600)

type world struct {
	t         *testing.T
	db        *bun.DB
	now       time.Time
	svc       *claims.Service
	subs      *subsidies.Service
	certs     *certificates.Service
	workers   *workers.Service
	hrOrg     int64
	reviewer  *accounts.Principal
	approver  *accounts.Principal
	approver2 *accounts.Principal
	yichang   *accounts.Principal
}

var seq atomic.Int64

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldOn(t, dbtest.DB(t))
}

// newWorldOn is newWorld on db (a database of its own for a world too big
// to share with the package's other tests).
func newWorldOn(t *testing.T, db *bun.DB) *world {
	t.Helper()
	w := &world{t: t, db: db, now: time.Date(2026, 12, 1, 10, 0, 0, 0, shanghai)}
	clock := func() time.Time { return w.now }
	signer, err := certificates.NewSigner(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	w.certs = certificates.NewService(certificates.Config{DB: db, Signer: signer, BaseURL: "https://tuoyu.test",
		DataDir: t.TempDir(), Location: shanghai, Now: clock,
		ValidYears: func(context.Context, string, time.Time) (int, error) { return 1, nil }})
	t.Cleanup(w.certs.Close)
	w.workers = workers.NewService(db, workerstest.Cipher(t), clock)
	w.subs = subsidies.NewService(db, shanghai, clock)
	w.svc = claims.NewService(db, w.subs, calendar.NewService(db, shanghai, clock), shanghai, clock)
	w.hrOrg = workerstest.Org(t, db, "hr_bureau", "420100")
	w.reviewer = workerstest.Staff(t, db, accounts.RoleHRReviewer, w.hrOrg, "420100")
	w.approver = workerstest.Staff(t, db, accounts.RoleHRApprover, w.hrOrg, "420100")
	w.approver2 = workerstest.Staff(t, db, accounts.RoleHRApprover, w.hrOrg, "420100")
	w.yichang = workerstest.Staff(t, db, accounts.RoleHRApprover, workerstest.Org(t, db, "hr_bureau", "420500"), "420500")
	return w
}

// person registers a worker in 武汉 with every subsidy fact set by HR.
func (w *world) person(groups []string) (*workers.Worker, *accounts.Principal) {
	w.t.Helper()
	ctx := context.Background()
	wk, err := w.workers.Register(ctx, w.reviewer, workers.RegisterInput{Name: "张丽", IDNumber: workerstest.IDNumber("420106")})
	if err != nil {
		w.t.Fatal(err)
	}
	emp, months := "enterprise_employee", 40
	if _, err := w.workers.UpdateProfile(ctx, w.reviewer, wk.ID, workers.ProfileInput{Employment: &emp, InsuredMonths: &months, TargetGroups: &groups}); err != nil {
		w.t.Fatal(err)
	}
	return wk, workerstest.WorkerUser(w.t, w.db, wk.ID)
}

// cert records an external skill certificate for the worker.
func (w *world) cert(workerID int64, occupation string, level int, issued string) int64 {
	w.t.Helper()
	c, err := w.certs.RecordExternal(context.Background(), w.reviewer, workerID, certificates.ExternalInput{Kind: "skill",
		Number: fmt.Sprintf("EXT-%d-%d", time.Now().UnixNano(), seq.Add(1)), Occupation: occupation, Level: &level,
		IssuedOn: issued, Issuer: "湖北省职业技能鉴定中心"})
	if err != nil {
		w.t.Fatal(err)
	}
	return c.ID
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func (w *world) submitAndReview(p *accounts.Principal, certID int64, subsidy string) *claims.Claim {
	w.t.Helper()
	ctx := context.Background()
	c, created, err := w.svc.Submit(ctx, p, claims.SubmitInput{CertificateID: certID, Subsidy: subsidy})
	if err != nil || !created {
		w.t.Fatalf("submit: %v (created %v)", err, created)
	}
	if c, err = w.svc.Review(ctx, w.reviewer, c.ID, claims.Decision{Decision: "pass"}); err != nil {
		w.t.Fatal(err)
	}
	return c
}

func TestClaimFlowFourEyesNoticeAndPayable(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wk, self := w.person([]string{"graduate_of_year"})
	certID := w.cert(wk.ID, "4-10-01-03", 5, "2026-06-01")

	c, created, err := w.svc.Submit(ctx, self, claims.SubmitInput{CertificateID: certID, Subsidy: "training"})
	if err != nil || !created {
		t.Fatalf("submit: %v", err)
	}
	if c.Status != claims.StatusSubmitted || c.AmountYuan != 1200 || c.RegionCode != "420106" || c.EvalStatus != "eligible" {
		t.Fatalf("claim: status %s amount %d region %s eval %s", c.Status, c.AmountYuan, c.RegionCode, c.EvalStatus)
	}
	// The approver may not approve before a review, nor what they reviewed.
	_, err = w.svc.Approve(ctx, w.approver, c.ID, claims.Decision{Decision: "approve"})
	wantCode(t, err, "invalid_status")
	if _, err = w.svc.Review(ctx, w.approver, c.ID, claims.Decision{Decision: "pass"}); err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Approve(ctx, w.approver, c.ID, claims.Decision{Decision: "approve"})
	wantCode(t, err, "four_eyes")
	// The database refuses it too, whatever the code above does.
	_, err = w.db.NewUpdate().Table("claims").Set("approver_id = reviewer_id").Where("id = ?", c.ID).Exec(ctx)
	if err == nil {
		t.Fatal("claims_four_eyes constraint did not refuse approver = reviewer")
	}
	// An empty reason on a rejection is refused.
	_, err = w.svc.Approve(ctx, w.approver2, c.ID, claims.Decision{Decision: "reject", Reason: "  "})
	wantCode(t, err, "validation_failed")

	// 2026-12-01 (Tue) + 5 working days = 2026-12-08.
	c, err = w.svc.Approve(ctx, w.approver2, c.ID, claims.Decision{Decision: "approve"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != claims.StatusNotice || c.NoticeEndsOn.Format(time.DateOnly) != "2026-12-08" || c.Changes == nil {
		t.Fatalf("approved: %s ends %v changes %s", c.Status, c.NoticeEndsOn, c.Changes)
	}
	notices, total, err := w.svc.Notices(ctx, "420100", 1, 20)
	if err != nil || total != 1 || notices[0].NameMasked != "张*" || notices[0].AmountYuan != 1200 {
		t.Fatalf("notices: %+v %d %v", notices, total, err)
	}
	// Not payable on the last day of 公示, payable the day after.
	if n, err := w.svc.EndNotices(ctx, time.Date(2026, 12, 8, 23, 0, 0, 0, shanghai)); err != nil || n != 0 {
		t.Fatalf("end notices on the last day: %d %v", n, err)
	}
	if n, err := w.svc.EndNotices(ctx, time.Date(2026, 12, 9, 0, 0, 0, 0, shanghai)); err != nil || n != 1 {
		t.Fatalf("end notices the day after: %d %v", n, err)
	}
	if c, _ = w.svc.Get(ctx, self, c.ID); c.Status != claims.StatusPayable {
		t.Fatalf("status after notice: %s", c.Status)
	}
	// Outside scope: 宜昌 HR cannot see it.
	_, err = w.svc.Get(ctx, w.yichang, c.ID)
	wantCode(t, err, "claim_not_found")
	// The paid claim now counts: the same level cannot be claimed again on
	// another certificate (training once per occupation and level).
	other := w.cert(wk.ID, "4-10-01-03", 5, "2026-07-01")
	_, _, err = w.svc.Submit(ctx, self, claims.SubmitInput{CertificateID: other, Subsidy: "training"})
	wantCode(t, err, "not_eligible")
}

func TestObjectionSendsBackAndBanRejects(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wk, self := w.person([]string{"graduate_of_year"})
	c := w.submitAndReview(self, w.cert(wk.ID, "4-10-01-03", 4, "2026-05-01"), "training")
	c, err := w.svc.Approve(ctx, w.approver, c.ID, claims.Decision{Decision: "approve"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.Object(ctx, w.reviewer, c.ID, "")
	wantCode(t, err, "validation_failed")
	if c, err = w.svc.Object(ctx, w.reviewer, c.ID, "群众反映此人未在本市工作"); err != nil || c.Status != claims.StatusSubmitted || c.ApproverID != 0 {
		t.Fatalf("objection: %v %+v", err, c)
	}
	// A ban rejects the live claim with reason banned, in the caller's transaction.
	err = w.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		n, err := claims.RejectForBan(ctx, tx, wk.ID)
		if n != 1 {
			return fmt.Errorf("rejected %d claims", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ = w.svc.Get(ctx, self, c.ID); c.Status != claims.StatusRejected || c.RejectCode != "banned" {
		t.Fatalf("after ban: %s %s", c.Status, c.RejectCode)
	}
	// Rejected: approving it is refused with a clear code.
	_, err = w.svc.Approve(ctx, w.approver, c.ID, claims.Decision{Decision: "approve"})
	wantCode(t, err, "invalid_status")
}

// Unknown facts may be claimed; they are listed for the reviewer.
func TestUnknownMayBeClaimedAndIsListed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wk, err := w.workers.Register(ctx, w.reviewer, workers.RegisterInput{Name: "李华", IDNumber: workerstest.IDNumber("420102")})
	if err != nil {
		t.Fatal(err)
	}
	self := workerstest.WorkerUser(t, w.db, wk.ID)
	c, _, err := w.svc.Submit(ctx, self, claims.SubmitInput{CertificateID: w.cert(wk.ID, "4-10-01-02", 5, "2026-03-01"), Subsidy: "appraisal"})
	if err != nil {
		t.Fatal(err)
	}
	if c.EvalStatus != "unknown" || c.AmountYuan != 0 || !containsStr(string(c.Snapshot), "ap_target_group") {
		t.Fatalf("unknown claim: eval %s amount %d", c.EvalStatus, c.AmountYuan)
	}
	// Another's certificate is not found; an unknown subsidy is invalid.
	_, other := w.person([]string{"graduate_of_year"})
	_, _, err = w.svc.Submit(ctx, other, claims.SubmitInput{CertificateID: c.CertificateID, Subsidy: "appraisal"})
	wantCode(t, err, "certificate_not_found")
	_, _, err = w.svc.Submit(ctx, self, claims.SubmitInput{CertificateID: c.CertificateID, Subsidy: "housing"})
	wantCode(t, err, "invalid_subsidy")
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// A double click or two tabs make one claim.
func TestConcurrentDoubleSubmissionMakesOneClaim(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wk, self := w.person([]string{"graduate_of_year"})
	certID := w.cert(wk.ID, "4-10-01-03", 5, "2026-06-01")
	const n = 20
	ids := make([]int64, n)
	errs := make([]error, n)
	var created atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, made, err := w.svc.Submit(ctx, self, claims.SubmitInput{CertificateID: certID, Subsidy: "training"})
			errs[i] = err
			if err == nil {
				ids[i] = c.ID
				if made {
					created.Add(1)
				}
			}
		}(i)
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("submission %d: id %d (first %d), err %v", i, ids[i], ids[0], errs[i])
		}
	}
	count, err := w.db.NewSelect().Table("claims").Where("worker_id = ?", wk.ID).Count(ctx)
	if err != nil || count != 1 || created.Load() != 1 {
		t.Fatalf("%d claims stored, %d created (%v)", count, created.Load(), err)
	}
	// Someone else submitting the same claim is told it exists.
	_, _, err = w.svc.Submit(ctx, w.reviewer, claims.SubmitInput{CertificateID: certID, Subsidy: "training"})
	wantCode(t, err, "duplicate_claim")
}

// approveAll approves the claims concurrently and counts the outcomes.
func (w *world) approveAll(list []*claims.Claim) (approved, limited int) {
	w.t.Helper()
	var wg sync.WaitGroup
	var ok, lim atomic.Int64
	errs := make(chan error, len(list))
	for _, c := range list {
		wg.Add(1)
		go func(id int64) {
			defer wg.Done()
			_, err := w.svc.Approve(context.Background(), w.approver, id, claims.Decision{Decision: "approve"})
			switch {
			case err == nil:
				ok.Add(1)
			case apperr.Is(err, "limit_exceeded"):
				lim.Add(1)
			default:
				errs <- err
			}
		}(c.ID)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		w.t.Errorf("unexpected: %v", err)
	}
	return int(ok.Load()), int(lim.Load())
}

// 50 concurrent approvals of claims that together exceed a limit approve
// exactly as many as the limit allows.
func TestConcurrentApprovalsRespectLimits(t *testing.T) {
	w := newWorld(t)
	// Once per occupation and level: 50 certificates of the same level.
	wk, self := w.person([]string{"graduate_of_year"})
	var list []*claims.Claim
	for i := 0; i < 50; i++ {
		list = append(list, w.submitAndReview(self, w.cert(wk.ID, "4-10-01-03", 5, "2026-06-01"), "training"))
	}
	if ok, lim := w.approveAll(list); ok != 1 || lim != 49 {
		t.Fatalf("once per level: %d approved, %d limit_exceeded; want 1 and 49", ok, lim)
	}

	// Lifetime limit 3: twelve different occupations and levels.
	wk2, self2 := w.person([]string{"graduate_of_year"})
	list = nil
	for _, occ := range []string{"4-10-01-01", "4-10-01-02", "4-10-01-03"} {
		for level := 2; level <= 5; level++ {
			list = append(list, w.submitAndReview(self2, w.cert(wk2.ID, occ, level, "2026-06-01"), "training"))
		}
	}
	if ok, lim := w.approveAll(list); ok != 3 || lim != 9 {
		t.Fatalf("lifetime limit: %d approved, %d limit_exceeded; want 3 and 9", ok, lim)
	}
}

// eligibility.refresh stores every worker's evaluation; proposals are the
// eligible, unclaimed ones in scope; accepting submits on the worker's behalf.
func TestRefreshProposalsAndAccept(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wk, _ := w.person([]string{"graduate_of_year"})
	w.cert(wk.ID, "4-10-01-03", 5, "2026-06-01")
	res, err := w.svc.Refresh(ctx, 2) // tiny batches: several steps
	if err != nil {
		t.Fatal(err)
	}
	if res.Results < 3 || res.Eligible < 1 {
		t.Fatalf("refresh: %+v", res)
	}
	// The refresh leaves statistics behind (a never-analysed table has
	// reltuples -1), so the lists after it are planned on real sizes.
	var reltuples float64
	if err := w.db.NewRaw("SELECT reltuples FROM pg_class WHERE relname = 'claim_eligibility'").Scan(ctx, &reltuples); err != nil || reltuples < 0 {
		t.Errorf("claim_eligibility not analysed after the refresh: reltuples %v (%v)", reltuples, err)
	}
	// The application's role, which owns no table, may have it analysed.
	if _, err := dbtest.AppDB(t).ExecContext(ctx, "SELECT claims_analyze_eligibility()"); err != nil {
		t.Errorf("the application role cannot analyse claim_eligibility: %v", err)
	}
	props, total, _, err := w.svc.Proposals(ctx, w.reviewer, claims.ProposalWindow{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var mine []int64
	for _, p := range props {
		if p.WorkerID == wk.ID {
			mine = append(mine, p.ID)
			if p.WindowEndsOn.String() != "2027-06-01" || p.AmountYuan <= 0 {
				t.Errorf("proposal: %+v", p)
			}
		}
	}
	if len(mine) == 0 || total < len(mine) {
		t.Fatalf("no proposal for the worker: %+v", props)
	}
	if _, n, _, _ := w.svc.Proposals(ctx, workerstest.Staff(t, w.db, accounts.RoleHRReviewer, w.hrOrg, "420500"), claims.ProposalWindow{Limit: 200}); n != 0 {
		t.Errorf("宜昌 reviewer sees %d proposals of 武汉", n)
	}
	out, err := w.svc.AcceptProposals(ctx, w.reviewer, append(mine, 999999999))
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for _, a := range out {
		if a.ClaimID != 0 {
			accepted++
		} else if a.ProposalID == 999999999 && a.Code != "proposal_not_found" {
			t.Errorf("unknown proposal: %+v", a)
		}
	}
	if accepted != len(mine) {
		t.Fatalf("accepted %d of %d: %+v", accepted, len(mine), out)
	}
	// Claimed now: no longer proposed; the worker was told.
	if props, _, _, _ = w.svc.Proposals(ctx, w.reviewer, claims.ProposalWindow{Limit: 200}); len(props) != total-len(mine) {
		t.Errorf("%d proposals left, want %d", len(props), total-len(mine))
	}
	n, err := w.db.NewSelect().Table("notifications").Where("worker_id = ? AND kind = 'claims.submitted'", wk.ID).Count(ctx)
	if err != nil || int(n) != len(mine) {
		t.Errorf("%d notifications, want %d (%v)", n, len(mine), err)
	}
}
