package seed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/certificates"
	"tuoyu/modules/claims"
	"tuoyu/modules/institutions"
	"tuoyu/modules/workers"
)

// Claims gives the demo its subsidy claims (DESIGN §5.5): worker1
// works in 武汉 (an employer in 420106) and has a claim in progress; 武汉
// holds claims submitted, reviewed, in notice, payable and rejected; 宜昌
// some too (by hr_reviewer2 of 宜昌's bureau); certificates stay that are
// eligible and nobody claimed (proposals after eligibility.refresh). The
// statuses batched, paid and returned belong to payout batches. It does
// nothing when claims exist.
func Claims(ctx context.Context, s Services) error {
	admin, err := s.principal(ctx, "admin")
	if err != nil {
		return err
	}
	if some, _, _, err := s.Claims.List(ctx, admin, claims.Filter{Page: 1, PerPage: 1}); err != nil || len(some) > 0 {
		return err
	}
	staff, err := claimsStaff(ctx, s)
	if err != nil {
		return err
	}
	w1 := staff.worker

	// worker1 moves to 武汉: employer in 420106, facts confirmed by HR.
	insts, _, err := s.Institutions.List(ctx, institutions.Filter{Region: "420106", Page: 1, PerPage: 1})
	if err != nil || len(insts) == 0 {
		return fmt.Errorf("demo employer in 420106: %w", err)
	}
	employer := insts[0].ID
	if err := demoFacts(ctx, s, admin, w1.WorkerID, &employer); err != nil {
		return err
	}

	wuhan, yichang, err := claimsCertificates(ctx, s, admin, staff)
	if err != nil {
		return err
	}
	if err := demoClaims(ctx, s, staff, wuhan, yichang); err != nil {
		return err
	}
	if err := worker1Claim(ctx, s, admin, w1); err != nil {
		return err
	}
	// The rest are proposals once evaluated (免申即享).
	_, err = s.Claims.Refresh(ctx, claims.RefreshBatch)
	return err
}

// claimStaff are the demo people who submit and decide the claims.
type claimStaff struct {
	reviewer, approver, reviewerYC, worker *accounts.Principal
}

// claimsStaff creates 宜昌's reviewer when missing and loads the people
// the demo claims need, so that Claims reads as its steps.
func claimsStaff(ctx context.Context, s Services) (claimStaff, error) {
	var st claimStaff
	get := func(name string) (*accounts.Principal, error) { return s.principal(ctx, name) }
	if ok, err := s.userExists(ctx, "hr_reviewer2"); err != nil {
		return st, err
	} else if !ok {
		if _, err := s.Accounts.CreateUser(ctx, accounts.NewUser{Username: "hr_reviewer2", DisplayName: "陈审核",
			Role: accounts.RoleHRReviewer, OrgCode: "hr-yichang", Password: DemoPassword, Demo: true}); err != nil {
			return st, err
		}
	}
	var err error
	if st.reviewer, err = get("hr_reviewer1"); err != nil {
		return st, err
	}
	if st.approver, err = get("hr_approver1"); err != nil {
		return st, err
	}
	if st.reviewerYC, err = get("hr_reviewer2"); err != nil {
		return st, err
	}
	if st.worker, err = get("worker1"); err != nil {
		return st, err
	}
	return st, nil
}

// claimsCertificates finds the valid certificates by region (recording
// two for 宜昌 when it has too few) and sets their holders' facts, so
// the demo claims have something to claim.
func claimsCertificates(ctx context.Context, s Services, admin *accounts.Principal, staff claimStaff) (wuhan, yichang []certificates.Certificate, err error) {
	w1, reviewerYC := staff.worker, staff.reviewerYC
	// Valid certificates by region; the facts of their holders set so
	// that the training subsidy is open to them.
	list, _, err := s.Certificates.List(ctx, admin, certificates.Filter{Status: certificates.StatusValid, Limit: 200})
	if err != nil {
		return nil, nil, err
	}
	for _, c := range list {
		switch {
		case c.WorkerID == w1.WorkerID:
		case c.RegionCode[:4] == "4201":
			wuhan = append(wuhan, c)
		case c.RegionCode[:4] == "4205":
			yichang = append(yichang, c)
		}
	}
	if len(yichang) < 2 {
		// 宜昌 has no class of its own yet: record certificates issued
		// elsewhere for two 宜昌 workers.
		ids, err := yichangWorkers(ctx, s, reviewerYC, 2)
		if err != nil {
			return nil, nil, err
		}
		for i, id := range ids {
			level := 5 - i
			c, err := s.Certificates.RecordExternal(ctx, admin, id, certificates.ExternalInput{Kind: "skill",
				Number: fmt.Sprintf("DEMO-YC-%d", id), Occupation: "4-10-01-03", Level: &level,
				IssuedOn: s.Now().AddDate(0, -2, 0).Format(time.DateOnly), Issuer: "宜昌市职业技能鉴定中心"})
			if err != nil {
				return nil, nil, err
			}
			yichang = append(yichang, c)
		}
	}
	for _, c := range append(append([]certificates.Certificate{}, wuhan...), yichang...) {
		if err := demoFacts(ctx, s, admin, c.WorkerID, nil); err != nil {
			return nil, nil, err
		}
	}
	if len(wuhan) < 8 {
		return nil, nil, fmt.Errorf("demo claims need 8 certificates in 武汉, found %d", len(wuhan))
	}
	return wuhan, yichang, nil
}

// demoClaims submits the 武汉 and 宜昌 claims and takes each to its
// demo status, apart from the certificates they are built on.
func demoClaims(ctx context.Context, s Services, staff claimStaff, wuhan, yichang []certificates.Certificate) error {
	reviewer, approver, reviewerYC := staff.reviewer, staff.approver, staff.reviewerYC
	submit := func(p *accounts.Principal, c certificates.Certificate) (*claims.Claim, error) {
		cl, _, err := s.Claims.Submit(ctx, p, claims.SubmitInput{CertificateID: c.ID, Subsidy: "training"})
		return cl, err
	}
	pass := claims.Decision{Decision: "pass", Reason: "材料齐全"}
	approve := claims.Decision{Decision: "approve"}

	// Payable first (their 公示 is ended by running claims.notice a month ahead).
	for _, c := range wuhan[0:2] {
		cl, err := submit(reviewer, c)
		if err == nil {
			_, err = s.Claims.Review(ctx, reviewer, cl.ID, pass)
		}
		if err == nil {
			_, err = s.Claims.Approve(ctx, approver, cl.ID, approve)
		}
		if err != nil {
			return fmt.Errorf("demo payable claim: %w", err)
		}
	}
	if _, err := s.Claims.EndNotices(ctx, s.Now().AddDate(0, 1, 0)); err != nil {
		return err
	}
	steps := []struct {
		cert certificates.Certificate
		by   *accounts.Principal
		to   claims.Status
	}{
		{wuhan[2], reviewer, claims.StatusNotice}, {wuhan[3], reviewer, claims.StatusNotice},
		{wuhan[4], reviewer, claims.StatusReviewed}, {wuhan[5], reviewer, claims.StatusSubmitted},
		{wuhan[6], reviewer, claims.StatusRejected},
		{yichang[0], reviewerYC, claims.StatusSubmitted}, {yichang[1], reviewerYC, claims.StatusReviewed},
	}
	for _, st := range steps {
		cl, err := submit(st.by, st.cert)
		if err != nil {
			return fmt.Errorf("demo claim: %w", err)
		}
		switch st.to {
		case claims.StatusRejected:
			_, err = s.Claims.Review(ctx, st.by, cl.ID, claims.Decision{Decision: "reject", ReasonCode: claims.ReasonDocuments,
				Reason: "劳动合同与社保缴费记录的单位不一致，请补充在职证明后重新申请"})
		case claims.StatusReviewed, claims.StatusNotice:
			_, err = s.Claims.Review(ctx, st.by, cl.ID, pass)
			if err == nil && st.to == claims.StatusNotice {
				_, err = s.Claims.Approve(ctx, approver, cl.ID, approve)
			}
		}
		if err != nil {
			return fmt.Errorf("demo claim to %s: %w", st.to, err)
		}
	}
	return nil
}

// worker1Claim gives worker1 a claim in progress and an unclaimed
// external certificate, so the worker's pages have something to show.
func worker1Claim(ctx context.Context, s Services, admin *accounts.Principal, w1 *accounts.Principal) error {
	// worker1's own claim, in progress.
	mine, _, err := s.Certificates.List(ctx, w1, certificates.Filter{Status: certificates.StatusValid, Limit: 10})
	if err != nil {
		return err
	}
	if len(mine) > 0 {
		if _, _, err := s.Claims.Submit(ctx, w1, claims.SubmitInput{CertificateID: mine[0].ID, Subsidy: "training"}); err != nil {
			return fmt.Errorf("worker1's claim: %w", err)
		}
	}
	// worker1 also holds a skill certificate recorded from elsewhere that
	// nobody has claimed yet: 我能领什么补贴 has something to offer.
	level := 5
	if _, err := s.Certificates.RecordExternal(ctx, admin, w1.WorkerID, certificates.ExternalInput{Kind: "skill",
		Number: fmt.Sprintf("DEMO-WH-%d", w1.WorkerID), Occupation: "4-10-01-03", Level: &level,
		// Older than the certificate issued here, so that one stays first
		// on worker1's list (newest first).
		IssuedOn: s.Now().AddDate(0, -5, 0).Format(time.DateOnly), Issuer: "武汉市职业技能鉴定指导中心"}); err != nil {
		return fmt.Errorf("worker1's external certificate: %w", err)
	}
	return nil
}

// demoFacts confirms a demo worker's subsidy facts as HR would, and moves
// them to employer when given.
func demoFacts(ctx context.Context, s Services, admin *accounts.Principal, workerID int64, employer *int64) error {
	emp, months, groups := "enterprise_employee", 30, []string{workers.GroupGraduateOfYear}
	_, err := s.Workers.UpdateProfile(ctx, admin, workerID, workers.ProfileInput{EmployerInstitutionID: employer,
		Employment: &emp, InsuredMonths: &months, TargetGroups: &groups})
	return err
}

// yichangWorkers returns up to n workers of 宜昌 who are not banned, as
// 宜昌's reviewer sees them (the bureau's scope is 宜昌).
func yichangWorkers(ctx context.Context, s Services, reviewer *accounts.Principal, n int) ([]int64, error) {
	ws, _, err := s.Workers.List(ctx, reviewer, workers.Filter{Page: 1, PerPage: 50})
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, w := range ws {
		if len(ids) < n && !w.Banned && strings.HasPrefix(w.RegionCode, "4205") {
			ids = append(ids, w.ID)
		}
	}
	return ids, nil
}
