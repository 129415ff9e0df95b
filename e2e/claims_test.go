package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"tuoyu/modules/calendar"
	"tuoyu/modules/certificates"
	"tuoyu/modules/claims"
	"tuoyu/modules/subsidies"
)

// claimJourney: worker1 claims the skill upgrade subsidy on 我能领什么补贴;
// hr_approver1 does the first review and is then refused the approval of
// the same claim (four eyes); hr_approver2 approves; the claim is on the
// public /notices page with a masked name, never the full one. Then 公示
// ends: the claims.notice job runs as of the day after the notice's last
// day (the only step not taken through pages, as the server runs on the real
// clock), and both HR and the worker see the claim payable, gone from
// /notices.
func claimJourney(t *testing.T, srv *Server) {
	w := srv.Browser(t)
	w.Login("worker1")
	if status := w.Visit("/me/subsidies"); status != http.StatusOK {
		t.Fatalf("/me/subsidies answered %d", status)
	}
	if status := w.Submit(`form:has(input[name="subsidy"][value="skill_upgrade"]) button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("claiming answered %d", status)
	}
	claimPath := w.Path()
	if !strings.HasPrefix(claimPath, "/claims/") || w.Text("#claim-status") != "待初审" {
		t.Fatalf("after claiming: %s, status %q", claimPath, w.Text("#claim-status"))
	}
	holder := strings.SplitN(w.Text("dl.facts dd"), " ", 2)[0]

	r := srv.Browser(t)
	r.Login("hr_approver1")
	r.Visit(claimPath)
	if status := r.Submit(`form[action$="/review"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("review answered %d", status)
	}
	if got := r.Text("#claim-status"); got != "待复核" {
		t.Fatalf("after review: %q", got)
	}
	if r.Exists(`form[action$="/approve"]`) || !strings.Contains(r.HTML(), "须由另一位复核人审批") {
		t.Fatal("the reviewer is offered the approval of their own review")
	}

	a := srv.Browser(t)
	a.Login("hr_approver2")
	a.Visit(claimPath)
	if status := a.Submit(`form[action$="/approve"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("approval answered %d", status)
	}
	if got := a.Text("#claim-status"); got != "公示中" {
		t.Fatalf("after approval: %q", got)
	}

	s := srv.Browser(t)
	if status := s.Visit("/notices?region=420100"); status != http.StatusOK {
		t.Fatalf("/notices answered %d", status)
	}
	masked := certificates.MaskName(holder)
	found := false
	for _, row := range s.Texts("tbody tr") {
		if strings.Contains(row, masked) && strings.Contains(row, "技能提升补贴") {
			found = true
		}
		if strings.Contains(row, holder) && holder != masked {
			t.Errorf("the public notice shows the full name %q", holder)
		}
	}
	if !found {
		t.Fatalf("no notice for %s on /notices: %q", masked, s.Texts("tbody tr"))
	}

	endsOn := endNotice(t, srv, claimPath)
	if status := a.Visit(claimPath); status != http.StatusOK {
		t.Fatalf("the claim page answered %d after 公示", status)
	}
	if got := a.Text("#claim-status"); got != "待拨付" {
		t.Errorf("HR sees the claim %q after 公示, want 待拨付", got)
	}
	if status := w.Visit("/claims"); status != http.StatusOK {
		t.Fatalf("the worker's /claims answered %d", status)
	}
	if got := w.Text(`tbody tr:has(a[href="` + claimPath + `"]) td:nth-child(6)`); got != "待拨付" {
		t.Errorf("the worker's list shows the claim %q after 公示, want 待拨付", got)
	}
	s.Visit("/notices?region=420100")
	for _, row := range s.Texts("tbody tr") {
		if strings.Contains(row, masked) && strings.Contains(row, "技能提升补贴") && strings.Contains(row, endsOn) {
			t.Errorf("/notices still lists the ended notice: %q", row)
		}
	}
}

// endNotice runs the claims.notice job as of the first day after the 公示 of
// the claim at claimPath, and returns that 公示's last day.
func endNotice(t *testing.T, srv *Server, claimPath string) string {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(claimPath, "/claims/"), 10, 64)
	if err != nil {
		t.Fatalf("claim path %s: %v", claimPath, err)
	}
	db := srv.DB(t)
	ctx := context.Background()
	c, err := claims.NewStore(db).ByID(ctx, id)
	if err != nil || c.NoticeEndsOn == nil {
		t.Fatalf("claim %d: %v (notice ends %v)", id, err, c)
	}
	ends := *c.NoticeEndsOn
	after := time.Date(ends.Year(), ends.Month(), ends.Day()+1, 0, 30, 0, 0, shanghai)
	svc := claims.NewService(db, subsidies.NewService(db, shanghai, time.Now), calendar.NewService(db, shanghai, time.Now),
		shanghai, time.Now)
	if n, err := svc.EndNotices(ctx, after); err != nil || n == 0 {
		t.Fatalf("claims.notice as of %s: %d moved, %v", after.Format(time.DateTime), n, err)
	}
	return ends.Format(time.DateOnly)
}
