package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/claims/claimstest"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
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
		Passed       int64            `json:"passed"`
		Certified    int64            `json:"certified"`
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
	if err := testApp(t).DB.NewRaw(`SELECT DISTINCT extract(year FROM completed_on)::int FROM enrolments WHERE status = 'completed'
		UNION SELECT DISTINCT extract(year FROM issued_on)::int FROM certificates`).
		Scan(context.Background(), &ys); err != nil {
		t.Fatal(err)
	}
	for _, y := range ys {
		years[y] = true
	}
	seen, seenCert := int64(0), int64(0)
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
		certified := countSQL(t, `SELECT count(*) FROM certificates
			WHERE source = 'issued' AND region_code LIKE '4201%' AND extract(year FROM issued_on) = ?`, y)
		if st.Total.Certified != certified {
			t.Errorf("%d: certified %d, fresh count %d", y, st.Total.Certified, certified)
		}
		seenCert += certified
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
	if seen == 0 || seenCert == 0 {
		t.Errorf("the demo has completed enrolments and certificates in 武汉, the overview counted %d and %d", seen, seenCert)
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
	matchesSchema(t, "PUT", "/api/v1/payout-budgets", res.StatusCode, body)
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

// payoutPerson is a worker made for the payout HTTP tests, in county, with
// their plain ID number and account.
type payoutPerson struct {
	ID       int64
	IDNumber string
	Account  string
}

var payoutSeq int64

// payoutWorker registers a worker of county (with a bank account unless
// noAccount) through the workers service, as an admin.
func payoutWorker(t *testing.T, county, name string, noAccount bool) payoutPerson {
	t.Helper()
	a := testApp(t)
	ctx := context.Background()
	admin, err := a.Accounts.PrincipalByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	idn := workerstest.IDNumber(county)
	w, err := a.Workers.Register(ctx, &admin, workers.RegisterInput{Name: name, IDNumber: idn})
	if err != nil {
		t.Fatal(err)
	}
	p := payoutPerson{ID: w.ID, IDNumber: idn}
	if !noAccount {
		payoutSeq++
		p.Account = fmt.Sprintf("621700%013d", time.Now().UnixNano()%1e9*1000+payoutSeq)
		bank := "=HYPERLINK(\"http://x\")" // a formula-like bank name: must come out neutralised
		if _, err := a.Workers.UpdateProfile(ctx, &admin, w.ID, workers.ProfileInput{BankAccount: &p.Account, BankName: &bank}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// payableClaim stores a payable claim (on a new external certificate) as
// the claims flow leaves one after 公示.
func payableClaim(t *testing.T, workerID int64, county string, amount int) int64 {
	t.Helper()
	a := testApp(t)
	ctx := context.Background()
	admin, err := a.Accounts.PrincipalByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	reviewer, _ := a.Accounts.PrincipalByUsername(ctx, "hr_reviewer1")
	approver, _ := a.Accounts.PrincipalByUsername(ctx, "hr_approver2")
	kit := &claimstest.Kit{DB: a.DB, Certs: a.Certificates, Admin: &admin, Reviewer: reviewer.UserID, Approver: approver.UserID}
	return kit.Claim(t, workerID, county, "appraisal", "payable", int64(amount), time.Now().AddDate(0, 0, -10))
}

type batchBody struct {
	ID             int64  `json:"id"`
	Number         string `json:"number"`
	Region         string `json:"region"`
	Status         string `json:"status"`
	Claims         int    `json:"claims"`
	TotalYuan      int64  `json:"total_yuan"`
	PaidYuan       int64  `json:"paid_yuan"`
	ReturnedYuan   int64  `json:"returned_yuan"`
	ReturnedClaims int    `json:"returned_claims"`
	Items          []struct {
		ClaimID      int64  `json:"claim_id"`
		Name         string `json:"name"`
		IDMasked     string `json:"id_number_masked"`
		Status       string `json:"status"`
		AmountYuan   int64  `json:"amount_yuan"`
		BlocksExport bool   `json:"blocks_export"`
	} `json:"items"`
	Blocking []struct {
		ClaimID int64  `json:"claim_id"`
		Name    string `json:"name"`
	} `json:"blocking"`
}

func TestPayoutBatchesOverHTTP(t *testing.T) {
	const county = "420117"
	approver := login(t, "hr_approver1")
	a, b := payoutWorker(t, county, "韩梅梅", false), payoutWorker(t, county, "李雷", false)
	nobank := payoutWorker(t, county, "林涛", true)
	ca, cb, cn := payableClaim(t, a.ID, county, 1500), payableClaim(t, b.ID, county, 200), payableClaim(t, nobank.ID, county, 700)

	// Who may build.
	for _, who := range []string{"hr_reviewer1", "provider1", "regulator2", "worker1", "admin"} {
		res, body := login(t, who).do("POST", "/api/v1/payout-batches", map[string]string{"region": county})
		if res.StatusCode != 403 {
			t.Errorf("%s builds a batch: %d %s", who, res.StatusCode, body)
		}
	}
	if res, _ := anon(t).do("POST", "/api/v1/payout-batches", map[string]string{"region": county}); res.StatusCode != 401 {
		t.Errorf("anonymous: %d", res.StatusCode)
	}
	for _, c := range []struct {
		body any
		code int
		pc   string
	}{
		{map[string]string{}, 422, "region_required"},
		{map[string]string{"region": "420500"}, 404, "region_not_found"},
		{map[string]any{"region": 420117}, 422, "invalid_field"},
		{map[string]string{"region": county, "x": "y"}, 422, "unknown_field"},
		{strings.NewReader("{"), 400, "malformed_json"},
	} {
		var res *http.Response
		var body []byte
		if r, ok := c.body.(io.Reader); ok {
			res, body = approver.do("POST", "/api/v1/payout-batches", r, "Content-Type", "application/json")
		} else {
			res, body = approver.do("POST", "/api/v1/payout-batches", c.body)
		}
		if res.StatusCode != c.code || problemCode(t, body) != c.pc {
			t.Errorf("%v: %d %s", c.body, res.StatusCode, body)
		}
	}

	res, body := approver.do("POST", "/api/v1/payout-batches", map[string]string{"region": county})
	if res.StatusCode != 201 {
		t.Fatalf("build: %d %s", res.StatusCode, body)
	}
	matchesSchema(t, "POST", "/api/v1/payout-batches", res.StatusCode, body)
	bt := decode[batchBody](t, body)
	if bt.Status != "draft" || bt.Claims != 3 || bt.TotalYuan != 2400 || bt.Region != county {
		t.Fatalf("batch = %+v", bt)
	}
	id := itoa(int(bt.ID))
	if res, body := approver.do("POST", "/api/v1/payout-batches", map[string]string{"region": county}); res.StatusCode != 409 || problemCode(t, body) != "nothing_payable" {
		t.Errorf("again: %d %s", res.StatusCode, body)
	}
	res, body = approver.do("GET", "/api/v1/payout-batches/"+id, nil)
	bt = decode[batchBody](t, body)
	if res.StatusCode != 200 || len(bt.Items) != 3 || len(bt.Blocking) != 1 || bt.Blocking[0].Name != "林涛" {
		t.Fatalf("show: %d %s", res.StatusCode, body)
	}
	for _, it := range bt.Items {
		if strings.Contains(string(body), a.IDNumber) || !strings.Contains(it.IDMasked, "****") {
			t.Fatal("the batch JSON shows an ID number in clear")
		}
	}
	res, body = approver.do("GET", "/api/v1/payout-batches?per_page=200", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"id":`+id) {
		t.Errorf("list: %d %s", res.StatusCode, body)
	}

	// Another city's approver sees nothing of it: 404, never 403.
	ctx := context.Background()
	if _, err := testApp(t).Accounts.CreateUser(ctx, accounts.NewUser{Username: "hr_approver_yc", DisplayName: "宜昌审批", Role: accounts.RoleHRApprover, OrgCode: "hr-yichang", Password: DemoPassword, Demo: true}); err != nil && !strings.Contains(err.Error(), "taken") {
		t.Fatal(err)
	}
	foreign := login(t, "hr_approver_yc")
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/payout-batches/" + id}, {"GET", "/api/v1/payout-batches/" + id + "/export.xlsx"},
		{"POST", "/api/v1/payout-batches/" + id + "/paid"}, {"GET", "/payout-batches/" + id},
		{"GET", "/api/v1/payout-batches/999999999"}, {"GET", "/api/v1/payout-batches/abc"},
	} {
		var res *http.Response
		var body []byte
		if r.method == "POST" {
			res, body = foreign.do(r.method, r.path, map[string]string{"paid_on": "2026-01-05", "bank_reference": "x"})
		} else {
			res, body = foreign.do(r.method, r.path, nil)
		}
		if res.StatusCode != 404 {
			t.Errorf("foreign %s %s: %d %s", r.method, r.path, res.StatusCode, body)
		}
	}

	// The export refuses while 林涛 has no account, naming him.
	res, body = approver.do("GET", "/api/v1/payout-batches/"+id+"/export.xlsx", nil)
	if res.StatusCode != 409 || problemCode(t, body) != "missing_bank_account" || !strings.Contains(string(body), "林涛") {
		t.Fatalf("export with blocking: %d %s", res.StatusCode, body)
	}
	// Paying a draft.
	if res, body := approver.do("POST", "/api/v1/payout-batches/"+id+"/paid", map[string]string{"paid_on": "2026-01-05", "bank_reference": "x"}); res.StatusCode != 409 || problemCode(t, body) != "not_exported" {
		t.Errorf("paying a draft: %d %s", res.StatusCode, body)
	}
	if res, body := approver.do("POST", "/api/v1/payout-batches/"+id+"/claims/"+itoa(int(cn))+"/remove", map[string]string{"reason": "未登记银行账户"}); res.StatusCode != 200 {
		t.Fatalf("remove: %d %s", res.StatusCode, body)
	} else {
		matchesSchema(t, "POST", "/api/v1/payout-batches/{id}/claims/{claim_id}/remove", res.StatusCode, body)
	}
	res, body = approver.do("GET", "/api/v1/payout-batches/"+id+"/export.xlsx", nil)
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("export: %d %s", res.StatusCode, body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(f.GetSheetName(0))
	if len(rows) != 4 || rows[3][0] != "合计" || rows[3][4] != "1700" {
		t.Fatalf("bank file rows: %v", rows)
	}
	for _, r := range rows[1:3] {
		if r[3] != `'=HYPERLINK("http://x")` {
			t.Errorf("bank name not neutralised: %q", r[3])
		}
		if r[1] != a.IDNumber && r[1] != b.IDNumber {
			t.Errorf("ID number in the file: %q", r[1])
		}
	}
	if strings.Contains(logBuf.String(), a.IDNumber) || strings.Contains(logBuf.String(), a.Account) {
		t.Error("the log holds an ID number or account in clear")
	}

	// Paid: bad input, then once.
	for _, c := range []struct {
		body map[string]string
		pc   string
	}{
		{map[string]string{"paid_on": "2026-13-01", "bank_reference": "x"}, "validation_failed"},
		{map[string]string{"paid_on": "2026-01-05", "bank_reference": " "}, "validation_failed"},
		{map[string]string{"paid_on": "2999-01-01", "bank_reference": "x"}, "validation_failed"},
		{map[string]string{"paid_on": "2001-01-01", "bank_reference": "x"}, "validation_failed"},
	} {
		if res, body := approver.do("POST", "/api/v1/payout-batches/"+id+"/paid", c.body); res.StatusCode != 422 || problemCode(t, body) != c.pc {
			t.Errorf("paid %v: %d %s", c.body, res.StatusCode, body)
		}
	}
	today := time.Now().In(testConfig().Location).Format(time.DateOnly)
	res, body = approver.do("POST", "/api/v1/payout-batches/"+id+"/paid", map[string]string{"paid_on": today, "bank_reference": "HB20260105"})
	if res.StatusCode != 200 || decode[batchBody](t, body).Status != "paid" {
		t.Fatalf("paid: %d %s", res.StatusCode, body)
	}
	matchesSchema(t, "POST", "/api/v1/payout-batches/{id}/paid", res.StatusCode, body)
	if res, body := approver.do("POST", "/api/v1/payout-batches/"+id+"/paid", map[string]string{"paid_on": today, "bank_reference": "HB20260105"}); res.StatusCode != 409 || problemCode(t, body) != "already_paid" {
		t.Errorf("paid twice: %d %s", res.StatusCode, body)
	}

	// Return files: bad ones are refused whole with rows named, never 5xx.
	stranger := payoutWorker(t, county, "陌生人", false)
	for _, c := range []struct {
		name, file string
		status     int
		code       string
		rowCodes   []string
	}{
		{"r.csv", "身份证号,金额,失败原因\n" + workerstest.IDNumber(county) + ",1500,x\n", 422, "return_file_invalid", []string{"unknown_person"}},
		{"r.csv", "身份证号,金额,失败原因\n" + stranger.IDNumber + ",1500,x\n", 422, "return_file_invalid", []string{"not_in_batch"}},
		{"r.csv", "身份证号,金额,失败原因\n" + a.IDNumber + ",1499,x\n", 422, "return_file_invalid", []string{"amount_mismatch"}},
		{"r.csv", "身份证号,金额,失败原因\n" + a.IDNumber + ",-1500,x\n", 422, "return_file_invalid", []string{"negative_amount"}},
		{"r.csv", "身份证号,金额,失败原因\n" + a.IDNumber + ",1500,\n", 422, "return_file_invalid", []string{"reason_required"}},
		{"r.txt", "x", 415, "unsupported_file_type", nil},
		{"r.csv", "", 422, "empty_file", nil},
		{"r.csv", "姓名,金额,失败原因\n韩梅梅,1500,x\n", 422, "missing_columns", nil},
	} {
		res, body := approver.upload("/api/v1/payout-batches/"+id+"/returns", c.name, []byte(c.file))
		if res.StatusCode != c.status || problemCode(t, body) != c.code {
			t.Errorf("%q: %d %s", c.file, res.StatusCode, body)
			continue
		}
		pb := decode[struct {
			Errors []struct {
				Row  int    `json:"row"`
				Code string `json:"code"`
			} `json:"errors"`
		}](t, body)
		for i, rc := range c.rowCodes {
			if i >= len(pb.Errors) || pb.Errors[i].Code != rc || pb.Errors[i].Row != 2 {
				t.Errorf("%q: errors %+v, want %s at row 2", c.file, pb.Errors, rc)
			}
		}
	}
	if res, body := approver.do("POST", "/api/v1/payout-batches/"+id+"/returns", nil); res.StatusCode != 422 || problemCode(t, body) != "file_required" {
		t.Errorf("no file: %d %s", res.StatusCode, body)
	}
	res, body = approver.upload("/api/v1/payout-batches/"+id+"/returns", "back.csv", []byte("身份证号,金额,失败原因\n"+a.IDNumber+",1500,账户已销户\n"))
	if res.StatusCode != 200 {
		t.Fatalf("returns: %d %s", res.StatusCode, body)
	}
	matchesSchema(t, "POST", "/api/v1/payout-batches/{id}/returns", res.StatusCode, body)
	_, body = approver.do("GET", "/api/v1/payout-batches/"+id, nil)
	matchesSchema(t, "GET", "/api/v1/payout-batches/{id}", 200, body)
	bt = decode[batchBody](t, body)
	if bt.ReturnedYuan != 1500 || bt.PaidYuan != 200 || bt.PaidYuan+bt.ReturnedYuan != bt.TotalYuan {
		t.Fatalf("reconcile: %+v", bt)
	}
	// Pages show the same reconciliation.
	res, body = approver.do("GET", "/payout-batches/"+id, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "已拨付 200 元 + 退回 1500 元 = 批次 1700 元") {
		t.Errorf("batch page: %d", res.StatusCode)
	}
	if res, _ := approver.do("GET", "/payout-batches", nil); res.StatusCode != 200 {
		t.Errorf("batches page: %d", res.StatusCode)
	}
	// The account fixed, the claim joins the next batch with 林涛's.
	res, body = approver.do("POST", "/api/v1/payout-batches/release-returns", map[string]string{"region": county})
	if res.StatusCode != 200 || !strings.Contains(string(body), `"released":0`) {
		t.Errorf("release before the fix: %d %s", res.StatusCode, body)
	}
	admin, _ := testApp(t).Accounts.PrincipalByUsername(ctx, "admin")
	acct, bank := "6217009999000011111", "汉口银行"
	if _, err := testApp(t).Workers.UpdateProfile(ctx, &admin, a.ID, workers.ProfileInput{BankAccount: &acct, BankName: &bank}); err != nil {
		t.Fatal(err)
	}
	res, body = approver.do("POST", "/api/v1/payout-batches/release-returns", map[string]string{"region": county})
	if res.StatusCode != 200 || !strings.Contains(string(body), `"released":1`) {
		t.Errorf("release after the fix: %d %s", res.StatusCode, body)
	}
	matchesSchema(t, "POST", "/api/v1/payout-batches/release-returns", res.StatusCode, body)
	var st string
	_ = testApp(t).DB.NewRaw("SELECT status FROM claims WHERE id = ?", ca).Scan(ctx, &st)
	if st != "payable" {
		t.Errorf("returned claim after the fix: %s", st)
	}
	_ = cb
}

func TestPayingAnEmptyBatch(t *testing.T) {
	const county = "420116"
	approver := login(t, "hr_approver2")
	w := payoutWorker(t, county, "空批次", false)
	c := payableClaim(t, w.ID, county, 300)
	res, body := approver.do("POST", "/api/v1/payout-batches", map[string]string{"region": county})
	if res.StatusCode != 201 {
		t.Fatalf("build: %d %s", res.StatusCode, body)
	}
	id := itoa(int(decode[batchBody](t, body).ID))
	res, body = approver.do("POST", "/payout-batches/"+id+"/claims/"+itoa(int(c))+"/remove", "reason=演示")
	if res.StatusCode != 303 {
		t.Fatalf("remove by form: %d %s", res.StatusCode, body)
	}
	if res, body := approver.do("GET", "/api/v1/payout-batches/"+id+"/export.xlsx", nil); res.StatusCode != 409 || problemCode(t, body) != "batch_empty" {
		t.Errorf("export empty: %d %s", res.StatusCode, body)
	}
	if res, body := approver.do("POST", "/api/v1/payout-batches/"+id+"/paid", map[string]string{"paid_on": "2026-01-05", "bank_reference": "x"}); res.StatusCode != 409 || problemCode(t, body) != "batch_empty" {
		t.Errorf("pay empty: %d %s", res.StatusCode, body)
	}
	// The page form shows the refusal on the page.
	res, body = approver.do("POST", "/payout-batches/"+id+"/paid", "paid_on=2026-01-05&bank_reference=x")
	if res.StatusCode != 409 || !strings.Contains(string(body), "没有补贴申请") {
		t.Errorf("pay empty by form: %d", res.StatusCode)
	}
}

func TestPayoutDemo(t *testing.T) {
	c := login(t, "hr_approver1")
	res, body := c.do("GET", "/api/v1/payout-batches?per_page=200", nil)
	if res.StatusCode != 200 {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	l := decode[struct {
		Items []batchBody `json:"items"`
	}](t, body)
	var paid bool
	var draft int64
	for _, b := range l.Items {
		if b.Region != "420100" {
			continue // other tests' batches
		}
		switch b.Status {
		case "paid":
			paid = paid || (b.ReturnedClaims >= 1 && b.PaidYuan > 0 && b.PaidYuan+b.ReturnedYuan == b.TotalYuan)
		case "draft":
			if b.Claims >= 1 {
				draft = b.ID
			}
		}
	}
	if !paid || draft == 0 {
		t.Fatalf("demo batches: a paid one with a return %v, a draft %d (%s)", paid, draft, body)
	}
	// The draft's workers all have bank accounts: nothing blocks its export.
	_, body = c.do("GET", "/api/v1/payout-batches/"+itoa(int(draft)), nil)
	if b := decode[batchBody](t, body); len(b.Blocking) != 0 {
		t.Errorf("the demo draft has blocking workers: %+v", b.Blocking)
	}
	// A claim stays payable in 武汉 (the demo keeps one in every status).
	var payable int
	if err := testApp(t).DB.NewRaw(`SELECT count(*) FROM claims WHERE status = 'payable' AND region_code LIKE '4201%'`).
		Scan(context.Background(), &payable); err != nil {
		t.Fatal(err)
	}
	if payable == 0 {
		t.Error("no payable claim left in 武汉's demo")
	}
	var returned int
	_ = testApp(t).DB.NewRaw("SELECT count(*) FROM claims WHERE status = 'returned'").Scan(context.Background(), &returned)
	if returned == 0 {
		t.Error("the demo has no returned claim")
	}
}

// TestStatsPassedMatchesAFreshCount: the overview's "passed" counts the
// enrolments that passed every part their plan asks for, by the day of the
// last passing result in Asia/Shanghai, as a count written here finds them.
func TestStatsPassedMatchesAFreshCount(t *testing.T) {
	c := login(t, "hr_reviewer1")
	var ys []int
	if err := testApp(t).DB.NewRaw(`SELECT DISTINCT extract(year FROM updated_at AT TIME ZONE 'Asia/Shanghai')::int
		FROM assessment_results WHERE passed`).Scan(context.Background(), &ys); err != nil {
		t.Fatal(err)
	}
	seen := int64(0)
	for _, y := range ys {
		res, body := c.do("GET", "/api/v1/stats?year="+itoa(y), nil)
		if res.StatusCode != 200 {
			t.Fatalf("stats %d: %d %s", y, res.StatusCode, body)
		}
		st := decode[statsBody](t, body)
		for _, u := range st.Unavailable {
			if u == "passed" {
				t.Fatalf("%d: passed is unavailable: %s", y, body)
			}
		}
		want := countSQL(t, `SELECT count(*) FROM (
			SELECT r.enrolment_id, max(r.updated_at) AS last, bool_or(s.kind = 'theory') AS theory,
				bool_or(s.kind = 'practical') AS practical, min(p.assessment) AS mode
			FROM assessment_results r JOIN assessment_sittings s ON s.id = r.sitting_id
			JOIN classes cl ON cl.id = s.class_id JOIN plans p ON p.id = cl.plan_id
			WHERE r.passed AND s.region_code LIKE '4201%'
			GROUP BY r.enrolment_id) x
			WHERE (x.mode = 'theory_practical' AND x.theory AND x.practical OR x.mode <> 'theory_practical')
			AND extract(year FROM x.last AT TIME ZONE 'Asia/Shanghai') = ?`, y)
		if st.Total.Passed != want {
			t.Errorf("%d: passed %d, fresh count %d", y, st.Total.Passed, want)
		}
		seen += want
	}
	if seen == 0 {
		t.Fatal("the demo has no passes in 武汉: the check proves nothing")
	}
}
