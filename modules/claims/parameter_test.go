package claims_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/audit"
	"tuoyu/modules/claims"
	"tuoyu/modules/notify"
	"tuoyu/modules/subsidies"
	"tuoyu/modules/workers/workerstest"
)

// The length of 公示 is the administrator's parameter
// claims.notice_working_days in force on the approval date for the claim's
// region, not a constant: a value added from a date changes the approvals
// from that date on, in its region only.
func TestNoticeLengthFollowsTheParameter(t *testing.T) {
	w := newWorld(t)
	admin := workerstest.Staff(t, w.db, accounts.RoleAdmin, workerstest.Org(t, w.db, "admin", "420000"), "420000")
	ctx := audit.WithRequest(context.Background(), audit.Request{UserID: admin.UserID, Label: "admin"})
	for _, in := range []subsidies.NewValue{
		// 武汉 from Thursday 2026-12-03: ten working days.
		{Name: "claims.notice_working_days", Region: "420100", EffectiveFrom: "2026-12-03", Value: "10", Reference: "武汉市测试通知"},
		// 宜昌 from today: two; not 武汉's business.
		{Name: "claims.notice_working_days", Region: "420500", EffectiveFrom: "2026-12-01", Value: "2", Reference: "宜昌市测试通知"},
	} {
		if _, err := w.subs.AddValue(ctx, in); err != nil {
			t.Fatalf("add %s for %s: %v", in.Name, in.Region, err)
		}
	}

	wk, self := w.person([]string{"graduate_of_year"})
	first := w.submitAndReview(self, w.cert(wk.ID, "4-10-01-03", 5, "2026-06-01"), "training")
	second := w.submitAndReview(self, w.cert(wk.ID, "4-10-01-03", 4, "2026-06-01"), "training")

	// The other tests of the package count the notices of 武汉: take these
	// two out of 公示 again (an objection sends a claim back to review).
	t.Cleanup(func() {
		for _, id := range []int64{first.ID, second.ID} {
			w.svc.Object(context.Background(), w.reviewer, id, "测试结束，撤回公示")
		}
	})

	// Tuesday 2026-12-01, before 武汉's new value: the province's 5 days.
	c, err := w.svc.Approve(ctx, w.approver2, first.ID, claims.Decision{Decision: "approve"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.NoticeEndsOn.Format(time.DateOnly); got != "2026-12-08" {
		t.Errorf("approved 2026-12-01: notice ends %s, want 2026-12-08 (5 working days)", got)
	}

	// Thursday 2026-12-03: 武汉's 10 days (12-04 … 12-17), where the
	// province's 5 would have ended on 12-10.
	w.now = time.Date(2026, 12, 3, 9, 0, 0, 0, shanghai)
	c, err = w.svc.Approve(ctx, w.approver2, second.ID, claims.Decision{Decision: "approve"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.NoticeEndsOn.Format(time.DateOnly); got != "2026-12-17" {
		t.Errorf("approved 2026-12-03: notice ends %s, want 2026-12-17 (10 working days)", got)
	}
	// The worker is told the length in force, not the default.
	inbox, _, _, _, err := notify.NewService(w.db, func() time.Time { return w.now }).Inbox(ctx, self, 20, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range inbox {
		bodies = append(bodies, m.Body)
	}
	if !strings.Contains(strings.Join(bodies, "\n"), "公示至 2026-12-17（10 个工作日）") {
		t.Errorf("the worker's inbox does not give the 10 days: %q", bodies)
	}
}

// NoticeWorkingDays reads the value for the region and day, falls back to
// the default without one, and refuses a stored value that is no whole
// number ≥ 1 instead of starting a 公示 of no days.
func TestNoticeWorkingDays(t *testing.T) {
	param := func(region, from, value string) subsidies.Param {
		d, err := subsidies.ParseDate(from)
		if err != nil {
			t.Fatal(err)
		}
		return subsidies.Param{Name: "claims.notice_working_days", Region: region, EffectiveFrom: d,
			Value: []byte(value), Reference: "测试"}
	}
	ps, err := subsidies.NewParamSet([]subsidies.Param{param("420000", "2017-01-01", "5"), param("420100", "2026-12-03", "10"),
		param("420500", "2026-01-01", "0")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		region, on string
		want       int
		fails      bool
	}{
		{"420106", "2026-12-02", 5, false},
		{"420106", "2026-12-03", 10, false},
		{"420302", "2026-12-03", 5, false},
		{"420502", "2026-12-03", 0, true},
	} {
		got, err := claims.NoticeWorkingDays(ps, tt.region, day(tt.on))
		if got != tt.want || (err != nil) != tt.fails {
			t.Errorf("%s on %s: %d, %v; want %d (fails %v)", tt.region, tt.on, got, err, tt.want, tt.fails)
		}
	}
	empty, err := subsidies.NewParamSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := claims.NoticeWorkingDays(empty, "420106", day("2026-12-03")); err != nil || got != claims.DefaultNoticeWorkingDays {
		t.Errorf("without a value: %d, %v", got, err)
	}
}
