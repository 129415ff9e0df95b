package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tuoyu/modules/workers/workerstest"
)

// Findings of the second review, kept as tests.

func TestOnlyRegulatorsKeepBans(t *testing.T) {
	res, body := login(t, "admin").do("POST", "/api/v1/bans", map[string]string{"name": "张三", "id_number": "420106199001011234",
		"reason": "x", "decision_no": "x", "decided_on": "2026-01-01"})
	if res.StatusCode != 403 || problemCode(t, body) != "forbidden_role" {
		t.Fatalf("admin records a ban: %d %s", res.StatusCode, body)
	}
}

func TestWorkerCannotChooseTheirHRBureau(t *testing.T) {
	w := login(t, "worker1")
	_, body := w.do("GET", "/api/v1/me/worker", nil)
	me := decode[struct {
		ID int64 `json:"id"`
	}](t, body)
	res, body := w.do("PATCH", fmt.Sprintf("/api/v1/workers/%d", me.ID), map[string]any{"employer_institution_id": 2})
	if res.StatusCode != 422 || !strings.Contains(string(body), `"not_editable"`) {
		t.Fatalf("worker sets own employer: %d %s", res.StatusCode, body)
	}
}

func TestEachTokenHasItsOwnBanCheckLimit(t *testing.T) {
	admin := login(t, "admin")
	token := func(org string) *client {
		res, body := admin.do("POST", "/api/v1/tokens", map[string]string{"organisation": org, "name": "招聘系统-" + org})
		if res.StatusCode != 201 {
			t.Fatalf("token for %s: %d %s", org, res.StatusCode, body)
		}
		return &client{t: t, a: testApp(t), bearer: decode[struct {
			Token string `json:"token"`
		}](t, body).Token}
	}
	noisy, quiet := token("provider2"), token("institution1")
	id := workerstest.IDNumber("420106")
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		res, _ := noisy.do("GET", "/api/v1/bans/check?id_number="+id, nil)
		limited = res.StatusCode == 429
	}
	if !limited {
		t.Fatal("40 checks by one token were never limited")
	}
	if res, body := quiet.do("GET", "/api/v1/bans/check?id_number="+id, nil); res.StatusCode != 200 {
		t.Fatalf("another organisation's token shares the limit: %d %s", res.StatusCode, body)
	}
}

// TestSubsidyFactsOnlyForThoseWhoDecide: colleges, providers and
// institutions see a worker's identity and training, not employment,
// insurance, target groups or the payout account.
func TestSubsidyFactsOnlyForThoseWhoDecide(t *testing.T) {
	hr := login(t, "hr_reviewer1")
	_, body := hr.do("GET", "/api/v1/workers?per_page=200", nil)
	items := decode[struct {
		Items []struct {
			ID      int64 `json:"id"`
			College *struct {
				Name string `json:"name"`
			} `json:"college"`
		} `json:"items"`
	}](t, body).Items
	var id int64
	for _, it := range items {
		if it.College != nil && it.College.Name == "武汉城市职业学院" {
			id = it.ID
			break
		}
	}
	if id == 0 {
		t.Fatal("no college1 graduate in 武汉")
	}
	path := fmt.Sprintf("/api/v1/workers/%d", id)
	_, body = hr.do("GET", path, nil)
	if !strings.Contains(string(body), `"subsidy_facts_shown":true`) {
		t.Fatalf("HR does not see the subsidy facts: %s", body)
	}
	res, body := login(t, "college1").do("GET", path, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"subsidy_facts_shown":false`) ||
		strings.Contains(string(body), `"target_groups"`) || strings.Contains(string(body), `"bank_account_masked"`) || strings.Contains(string(body), `"employment"`) {
		t.Fatalf("the college sees subsidy facts: %d %s", res.StatusCode, body)
	}
	res, page := login(t, "college1").do("GET", fmt.Sprintf("/workers/%d", id), nil)
	if res.StatusCode != 200 || strings.Contains(string(page), "补贴收款账户") || !strings.Contains(string(page), "仅本人及人社部门可见") {
		t.Fatalf("the college's profile page shows subsidy facts (%d)", res.StatusCode)
	}
}

// TestProviderOpensClassesOnlyInItsCity: a class's region decides whose
// waiting graduates it takes in, so a 武汉 provider cannot open one in 宜昌.
func TestProviderOpensClassesOnlyInItsCity(t *testing.T) {
	p := login(t, "provider1")
	starts := time.Now().AddDate(0, 2, 0)
	body := map[string]any{"plan_code": "FZR-GW", "name": "跨市班", "starts_on": starts.Format(time.DateOnly),
		"ends_on": starts.AddDate(0, 0, 10).Format(time.DateOnly), "capacity": 10, "region": "420500"}
	res, out := p.do("POST", "/api/v1/classes", body)
	if res.StatusCode != 422 || !strings.Contains(string(out), `"region_out_of_scope"`) {
		t.Fatalf("class in another city: %d %s", res.StatusCode, out)
	}
	body["region"] = "420106"
	if res, out := p.do("POST", "/api/v1/classes", body); res.StatusCode != 201 {
		t.Fatalf("class in its own city: %d %s", res.StatusCode, out)
	}
}

// TestInstitutionLinksOnlyToAnInstitutionAccount: the link decides which
// institution users see the workers employed there.
func TestInstitutionLinksOnlyToAnInstitutionAccount(t *testing.T) {
	a := testApp(t)
	var provider1, institution1 int64
	_ = a.DB.NewRaw("SELECT id FROM organisations WHERE code = 'provider1'").Scan(t.Context(), &provider1)
	_ = a.DB.NewRaw("SELECT id FROM organisations WHERE code = 'institution1'").Scan(t.Context(), &institution1)
	var instID int64
	_ = a.DB.NewRaw("SELECT id FROM institutions WHERE region_code LIKE '4201%' ORDER BY id LIMIT 1").Scan(t.Context(), &instID)
	reg := login(t, "regulator2")
	path := fmt.Sprintf("/api/v1/institutions/%d", instID)
	res, body := reg.do("PATCH", path, map[string]any{"organisation_id": provider1})
	if res.StatusCode != 422 || !strings.Contains(string(body), `"invalid_organisation"`) {
		t.Fatalf("link to a provider: %d %s", res.StatusCode, body)
	}
	if res, body := reg.do("PATCH", path, map[string]any{"organisation_id": institution1}); res.StatusCode != 200 {
		t.Fatalf("link to an institution account: %d %s", res.StatusCode, body)
	}
}

func TestDemoInstitutionSeesItsEmployees(t *testing.T) {
	res, body := login(t, "institution1").do("GET", "/api/v1/workers?per_page=200", nil)
	got := decode[struct {
		Total int `json:"total"`
	}](t, body)
	if res.StatusCode != 200 || got.Total == 0 {
		t.Fatalf("institution1 sees %d workers (%d)", got.Total, res.StatusCode)
	}
}

// TestIDSearchesPost: the search forms post, so a full ID number typed into
// them never lands in a URL.
func TestIDSearchesPost(t *testing.T) {
	a := testApp(t)
	var enc []byte
	var name string
	if err := a.DB.NewRaw("SELECT id_number_enc, name FROM workers WHERE region_code LIKE '4201%' ORDER BY id LIMIT 1").Scan(t.Context(), &enc, &name); err != nil {
		t.Fatal(err)
	}
	id, err := a.Cipher.Decrypt(enc)
	if err != nil {
		t.Fatal(err)
	}
	hr := login(t, "hr_reviewer1")
	_, page := hr.do("GET", "/workers", nil)
	if !strings.Contains(string(page), `<form method="post" action="/workers" class="search">`) {
		t.Fatal("the worker search form does not post")
	}
	res, page := hr.do("POST", "/workers", "q="+id)
	if res.StatusCode != 200 || !strings.Contains(string(page), name) || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("posted ID search: %d, found=%v, cache %q", res.StatusCode, strings.Contains(string(page), name), res.Header.Get("Cache-Control"))
	}
	reg := login(t, "regulator1")
	if res, page := reg.do("POST", "/bans/search", "q=&status="); res.StatusCode != 200 || !strings.Contains(string(page), "终身禁入名单") {
		t.Fatalf("posted ban search: %d", res.StatusCode)
	}
}
