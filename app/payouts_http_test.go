package app

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// statsBody is the part of GET /api/v1/stats the tests read.
type statsBody struct {
	Region string `json:"region"`
	Year   int    `json:"year"`
	Months []struct {
		Month    string `json:"month"`
		Trained  int64  `json:"trained"`
		Claimed  int64  `json:"claimed"`
		Paid     int64  `json:"paid"`
		PaidYuan int64  `json:"paid_yuan"`
	} `json:"months"`
	Regions []struct {
		Region   string `json:"region"`
		Trained  int64  `json:"trained"`
		PaidYuan int64  `json:"paid_yuan"`
	} `json:"regions"`
	Total struct {
		Trained      int64            `json:"trained"`
		Claimed      int64            `json:"claimed"`
		Approved     int64            `json:"approved"`
		ApprovedYuan int64            `json:"approved_yuan"`
		Paid         int64            `json:"paid"`
		PaidYuan     int64            `json:"paid_yuan"`
		Returned     int64            `json:"returned"`
		ReturnedYuan int64            `json:"returned_yuan"`
		ByStatus     map[string]int64 `json:"claims_by_status"`
	} `json:"total"`
	Budget *struct {
		AmountYuan int64 `json:"amount_yuan"`
		UsedYuan   int64 `json:"used_yuan"`
	} `json:"budget"`
	Unavailable []string `json:"unavailable"`
}

// countSQL runs a count the test makes itself, independently of the
// overview's queries.
func countSQL(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := testApp(t).DB.NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestStatsTrainedMatchesAFreshCount(t *testing.T) {
	c := login(t, "hr_reviewer1")
	// The demo's completions may fall in this or last year: ask for each
	// year that has some, and at least this one.
	years := map[int]bool{time.Now().Year(): true}
	var ys []int
	if err := testApp(t).DB.NewRaw("SELECT DISTINCT extract(year FROM completed_on)::int FROM enrolments WHERE status = 'completed'").
		Scan(context.Background(), &ys); err != nil {
		t.Fatal(err)
	}
	for _, y := range ys {
		years[y] = true
	}
	seen := int64(0)
	for y := range years {
		res, body := c.do("GET", "/api/v1/stats?year="+itoa(y), nil)
		if res.StatusCode != 200 {
			t.Fatalf("stats %d: %d %s", y, res.StatusCode, body)
		}
		st := decode[statsBody](t, body)
		want := countSQL(t, `SELECT count(*) FROM enrolments e JOIN classes cl ON cl.id = e.class_id
			WHERE e.status = 'completed' AND cl.region_code LIKE '4201%' AND extract(year FROM e.completed_on) = ?`, y)
		if st.Region != "420100" || st.Total.Trained != want {
			t.Errorf("%d: region %s trained %d, fresh count %d", y, st.Region, st.Total.Trained, want)
		}
		seen += st.Total.Trained
		var byMonth, byRegion int64
		for _, m := range st.Months {
			byMonth += m.Trained
		}
		for _, r := range st.Regions {
			byRegion += r.Trained
			if !strings.HasPrefix(r.Region, "4201") {
				t.Errorf("region %s outside 武汉 in hr_reviewer1's overview", r.Region)
			}
		}
		if len(st.Months) != 12 || byMonth != st.Total.Trained || byRegion != st.Total.Trained {
			t.Errorf("%d: months %d, by month %d, by region %d, total %d", y, len(st.Months), byMonth, byRegion, st.Total.Trained)
		}
	}
	if seen == 0 {
		t.Error("the demo has completed enrolments in 武汉, the overview counted none")
	}
}

func TestStatsScopeAndInput(t *testing.T) {
	c := login(t, "hr_reviewer1")
	for _, q := range []string{"region=420500", "region=420000", "region=999999", "region=abc"} {
		res, body := c.do("GET", "/api/v1/stats?"+q, nil)
		if res.StatusCode != 404 || problemCode(t, body) != "region_not_found" {
			t.Errorf("%s: %d %s", q, res.StatusCode, body)
		}
	}
	res, body := c.do("GET", "/api/v1/stats?region=420102&year=1999", nil)
	if res.StatusCode != 422 || problemCode(t, body) != "invalid_year" {
		t.Errorf("year 1999: %d %s", res.StatusCode, body)
	}
	res, body = c.do("GET", "/api/v1/stats?region=420102", nil)
	if res.StatusCode != 200 || decode[statsBody](t, body).Region != "420102" {
		t.Errorf("county in scope: %d %s", res.StatusCode, body)
	}
	for _, who := range []string{"provider1", "college1", "worker1"} {
		res, _ := login(t, who).do("GET", "/api/v1/stats", nil)
		if res.StatusCode != 403 {
			t.Errorf("%s: %d, want 403", who, res.StatusCode)
		}
	}
	if res, _ := anon(t).do("GET", "/api/v1/stats", nil); res.StatusCode != 401 {
		t.Errorf("anonymous: %d", res.StatusCode)
	}
	// The province regulator sees the province, by city.
	res, body = login(t, "regulator1").do("GET", "/api/v1/stats", nil)
	st := decode[statsBody](t, body)
	if res.StatusCode != 200 || st.Region != "420000" {
		t.Fatalf("regulator1: %d %s", res.StatusCode, body)
	}
	for _, r := range st.Regions {
		if !strings.HasSuffix(r.Region, "00") && !strings.HasPrefix(r.Region, "4290") {
			t.Errorf("province overview grouped by %s, want cities", r.Region)
		}
	}
}

func TestDashboardPageAndCSV(t *testing.T) {
	c := login(t, "regulator2")
	res, body := c.do("GET", "/hr/dashboard", nil)
	page := string(body)
	if res.StatusCode != 200 || !strings.Contains(page, "<svg") || !strings.Contains(page, "补贴与培训统计") {
		t.Fatalf("dashboard: %d", res.StatusCode)
	}
	if strings.Contains(page, "style=") || strings.Contains(page, "<script") {
		t.Error("dashboard has inline style or script")
	}
	res, body = c.do("GET", "/hr/dashboard.csv", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(string(body), "\ufeff分组,月份或地区") {
		t.Fatalf("csv: %d %.80s", res.StatusCode, body)
	}
	// The CSV's total row carries the JSON's numbers.
	_, js := c.do("GET", "/api/v1/stats", nil)
	st := decode[statsBody](t, js)
	lines := strings.Split(strings.TrimSpace(string(body)), "\r\n")
	if len(lines) != 1+12+len(st.Regions)+1 {
		t.Fatalf("csv has %d lines", len(lines))
	}
	total := strings.Split(lines[len(lines)-1], ",")
	if total[0] != "合计" || total[2] != itoa(int(st.Total.Trained)) || total[9] != itoa(int(st.Total.PaidYuan)) {
		t.Errorf("csv total %v, json %+v", total, st.Total)
	}
	if res, _ := login(t, "provider1").do("GET", "/hr/dashboard", nil); res.StatusCode != 403 {
		t.Errorf("provider dashboard: %d", res.StatusCode)
	}
}

func TestBudgetsSetByAdminShowOnTheOverview(t *testing.T) {
	admin := login(t, "admin")
	year := time.Now().Year()
	res, body := admin.do("PUT", "/api/v1/payout-budgets", map[string]any{"region_code": "420100", "year": year, "amount_yuan": 5_000_000, "note": "鄂财社〔2026〕1号"})
	if res.StatusCode != 200 {
		t.Fatalf("set budget: %d %s\n%s", res.StatusCode, body, logBuf.String()[max(0, len(logBuf.String())-1500):])
	}
	for _, bad := range []map[string]any{
		{"region_code": "420100", "year": year, "amount_yuan": -5},
		{"region_code": "420100", "year": year, "amount_yuan": 0},
		{"region_code": "999999", "year": year, "amount_yuan": 5},
		{"region_code": "420100", "year": 1990, "amount_yuan": 5},
	} {
		res, body := admin.do("PUT", "/api/v1/payout-budgets", bad)
		if res.StatusCode != 422 || problemCode(t, body) != "validation_failed" {
			t.Errorf("%v: %d %s", bad, res.StatusCode, body)
		}
	}
	if res, _ := login(t, "hr_approver1").do("PUT", "/api/v1/payout-budgets", map[string]any{"region_code": "420100", "year": year, "amount_yuan": 1}); res.StatusCode != 403 {
		t.Errorf("approver sets budget: %d", res.StatusCode)
	}
	_, body = login(t, "hr_reviewer1").do("GET", "/api/v1/stats", nil)
	st := decode[statsBody](t, body)
	if st.Budget == nil || st.Budget.AmountYuan != 5_000_000 || st.Budget.UsedYuan != st.Total.PaidYuan {
		t.Fatalf("budget on overview: %+v (paid %d)", st.Budget, st.Total.PaidYuan)
	}
	// The page form.
	res, _ = admin.do("POST", "/admin/budgets", "region_code=420500&year="+itoa(year)+"&amount_yuan=abc")
	if res.StatusCode != 422 {
		t.Errorf("bad form: %d", res.StatusCode)
	}
	res, _ = admin.do("POST", "/admin/budgets", "region_code=420500&year="+itoa(year)+"&amount_yuan=800000&note=x")
	if res.StatusCode != 303 {
		t.Errorf("form: %d", res.StatusCode)
	}
	res, body = admin.do("GET", "/admin/budgets", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "800000") {
		t.Errorf("budgets page: %d", res.StatusCode)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
