package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// banJourney: regulator1 records a lifetime ban on a person the system has
// never seen, finds it in the list with the ID number masked, and an
// institution's staff member checks that ID number before hiring (DESIGN
// §4.6, §5.4).
func banJourney(t *testing.T, srv *Server) {
	r := newRand()
	id := newIDNumber(r)
	name := uniqueName(r)
	decision := "武卫监罚〔2026〕" + id[14:17] + "号"

	reg := srv.Browser(t)
	reg.Login("regulator1")
	if status := reg.Visit("/bans"); status != http.StatusOK {
		t.Fatalf("/bans answered %d", status)
	}
	if status := reg.Submit(`a[href="/bans/new"]`); status != http.StatusOK {
		t.Fatalf("/bans/new answered %d", status)
	}
	reg.Fill(`form[action="/bans"] input[name="name"]`, name)
	reg.Fill(`form[action="/bans"] input[name="id_number"]`, id)
	reg.Fill(`input[name="decision_no"]`, decision)
	reg.Fill(`input[name="decided_on"]`, day(today()))
	reg.Fill(`textarea[name="reason"]`, "在托育机构工作期间殴打幼儿，经调查属实。")
	if status := reg.Submit(`form[action="/bans"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("recording the ban answered %d: %q %q", status, reg.Texts(".alert"), reg.Texts(".errors li"))
	}
	banPath := reg.Path()
	if !regexp.MustCompile(`^/bans/[0-9]+$`).MatchString(banPath) {
		t.Fatalf("after recording, the page is %s, want /bans/ID", banPath)
	}
	if facts := reg.Text("dl.facts"); len(missing(facts, name, decision, maskOf(id))) > 0 {
		t.Errorf("the ban page shows %q, want %s, %s and the masked ID %s", facts, name, decision, maskOf(id))
	}
	if strings.Contains(reg.HTML(), id) {
		t.Error("the ban page carries the full ID number")
	}

	reg.Visit("/bans")
	row := `tbody tr:has(a[href="` + banPath + `"])`
	got := reg.Texts(row)
	if len(got) != 1 {
		t.Fatalf("the list shows the new ban %d times: %q", len(got), reg.Texts("tbody tr"))
	}
	if miss := missing(got[0], name, maskOf(id), decision, "当事人"); len(miss) > 0 {
		t.Errorf("the list row %q lacks %q", got[0], miss)
	}
	if strings.Contains(reg.HTML(), id) {
		t.Error("the ban list carries the full ID number")
	}
	assertSameOrigin(t, srv.URL, reg.Requests())

	inst := srv.Browser(t)
	inst.Login("institution1")
	if status := inst.Visit("/bans/check"); status != http.StatusOK {
		t.Fatalf("/bans/check answered %d for institution1", status)
	}
	check := func(number string) string {
		t.Helper()
		inst.Fill(`form[action="/bans/check"] input[name="id_number"]`, number)
		if status := inst.Submit(`form[action="/bans/check"] button[type="submit"]`); status != http.StatusOK {
			t.Fatalf("checking answered %d: %q", status, inst.Texts(".alert"))
		}
		return strings.Join(inst.Texts(".alert, .notice"), "\n")
	}
	if answer := check(id); !strings.Contains(answer, "已被列入终身禁入名单") || !strings.Contains(answer, maskOf(id)) {
		t.Errorf("the check of the banned ID answers %q, want 已被列入终身禁入名单 with the masked ID", answer)
	}
	if strings.Contains(inst.HTML(), id) {
		t.Error("the check's answer carries the full ID number")
	}
	other := newIDNumber(r)
	if answer := check(other); !strings.Contains(answer, "未被列入终身禁入名单") {
		t.Errorf("the check of another ID answers %q, want 未被列入终身禁入名单", answer)
	}
	assertSameOrigin(t, srv.URL, inst.Requests())
}

// maskOf is the screens' mask of an ID number: the area code, eight stars
// and the last four characters (DESIGN §3).
func maskOf(id string) string { return id[:6] + "********" + id[14:] }
