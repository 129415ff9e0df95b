package e2e

import (
	"net/http"
	"strings"
	"testing"

	"tuoyu/modules/certificates"
)

// claimJourney: worker1 claims the skill upgrade subsidy on 我能领什么补贴;
// hr_approver1 does the first review and is then refused the approval of
// the same claim (four eyes); hr_approver2 approves; the claim is on the
// public /notices page with a masked name, never the full one. (That it
// becomes payable once 公示 ends is tested with a later clock in the claims
// module: the server here runs on the real one.)
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
}
