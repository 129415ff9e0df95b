package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// calculatorJourney: an anonymous visitor works out which subsidies a
// skill-level certificate brings (DESIGN §6), changes an answer and leaves
// one blank.
func calculatorJourney(t *testing.T, srv *Server) {
	b := srv.Browser(t)
	if status := b.Visit("/subsidies/calculator"); status != http.StatusOK {
		t.Fatalf("/subsidies/calculator answered %d", status)
	}
	if p := b.Path(); p != "/subsidies/calculator" {
		t.Fatalf("an anonymous visitor was sent to %s, want the calculator itself", p)
	}
	if b.Exists(".who form[action=\"/logout\"]") {
		t.Fatal("the visitor is logged in; the calculator must work without a login")
	}

	// Nothing about the person is assumed: the form starts at 不确定.
	for _, sel := range []string{`select[name="employment"]`, `select[name="banned"]`} {
		if got := b.Texts(sel + ` option:checked`); len(got) != 1 || got[0] != "不确定" {
			t.Errorf("%s starts as %q, want 不确定", sel, got)
		}
	}
	if !b.Exists(`input[name="groups_answer"][value="unknown"]:checked`) {
		t.Error("the six-groups question does not start as 不确定")
	}

	// An enterprise employee with 14 insured months and a 保育师 level-4
	// certificate issued three months ago, a graduate of the year, first
	// evaluation: eligible for all three.
	issued := today().AddDate(0, -3, 0)
	b.Fill(`input[name="as_of"]`, day(today()))
	b.Fill(`select[name="region"]`, "420100")
	b.Fill(`select[name="employment"]`, "enterprise_employee")
	b.Fill(`input[name="insured_months"]`, "14")
	b.Fill(`select[name="banned"]`, "no")
	b.Click(`input[name="groups_answer"][value="some"]`)
	b.Click(`input[name="groups"][value="graduate_of_year"]`)
	b.Fill(`select[name="c1_kind"]`, "skill_level")
	b.Fill(`select[name="c1_occupation"]`, "4-10-01-03")
	b.Fill(`select[name="c1_level"]`, "4")
	b.Fill(`input[name="c1_issued_on"]`, day(issued))
	b.Fill(`select[name="c1_first"]`, "yes")
	calculate := func() {
		t.Helper()
		if status := b.Submit(`form.calc-form button[type="submit"]`); status != http.StatusOK {
			t.Fatalf("calculating answered %d: %q", status, b.Texts(".alert"))
		}
	}
	calculate()

	heads := b.Texts(".calc-result .calc-subsidy h4")
	classes := b.Attrs(".calc-result .calc-subsidy", "class")
	if len(heads) != 3 || len(classes) != 3 {
		t.Fatalf("want 3 results (one per subsidy) for one certificate, got %q", heads)
	}
	su := heads[0]
	if miss := missing(su, "技能提升补贴", "可以申领", "1500 元"); len(miss) > 0 {
		t.Errorf("skill upgrade result %q lacks %q", su, miss)
	}
	if !strings.Contains(classes[0], "calc-eligible") {
		t.Errorf("skill upgrade result is %q, want calc-eligible", classes[0])
	}
	// training and appraisal amounts are figures from another city's
	// notice (DESIGN §6.3): shown, but labelled as examples.
	for i, want := range []string{"职业培训补贴", "技能评价补贴"} {
		h := heads[i+1]
		if miss := missing(h, want, "可以申领", "元", "示例"); len(miss) > 0 {
			t.Errorf("result %q lacks %q", h, miss)
		}
	}
	if note := strings.Join(b.Texts(".calc-result p.muted"), "\n"); !strings.Contains(note, "示例数值") {
		t.Errorf("the result does not explain the example figures: %q", note)
	}

	// Six insured months: the skill upgrade fails on that check alone, says
	// why in Chinese and how to fix it.
	b.Fill(`input[name="insured_months"]`, "6")
	calculate()
	results := b.Texts(".calc-result .calc-subsidy")
	classes = b.Attrs(".calc-result .calc-subsidy", "class")
	if len(results) != 3 {
		t.Fatalf("want 3 results, got %d", len(results))
	}
	if !strings.Contains(classes[0], "calc-ineligible") {
		t.Errorf("skill upgrade with 6 insured months is %q, want calc-ineligible", classes[0])
	}
	if miss := missing(results[0], "不符合条件", "不符合", "累计缴纳失业保险 6 个月，不足 12 个月"); len(miss) > 0 {
		t.Errorf("skill upgrade result lacks %q:\n%s", miss, results[0])
	}
	remedies := b.Texts(".calc-result .calc-subsidy:first-of-type .calc-remedy li")
	if !hasPrefix(remedies, "再缴纳 6 个月") {
		t.Errorf("remedies %q: want one starting 再缴纳 6 个月", remedies)
	}
	if h := b.Texts(".calc-result .calc-subsidy h4"); len(h) > 0 && strings.Contains(h[0], "元") {
		t.Errorf("an ineligible result shows an amount: %q", h[0])
	}

	// Insured months left blank: unknown, never a "no" (DESIGN §6.1).
	b.Fill(`input[name="insured_months"]`, "")
	calculate()
	results = b.Texts(".calc-result .calc-subsidy")
	classes = b.Attrs(".calc-result .calc-subsidy", "class")
	if len(results) != 3 {
		t.Fatalf("want 3 results, got %d", len(results))
	}
	if !strings.Contains(classes[0], "calc-unknown") {
		t.Errorf("skill upgrade with unknown insured months is %q, want calc-unknown", classes[0])
	}
	if miss := missing(results[0], "待补充"); len(miss) > 0 {
		t.Errorf("skill upgrade result lacks %q:\n%s", miss, results[0])
	}
	if strings.Contains(results[0], "不符合") {
		t.Errorf("a missing answer turned into a fail:\n%s", results[0])
	}
	if got := b.Attrs(`input[name="insured_months"]`, "value"); len(got) != 1 || got[0] != "" {
		t.Errorf("the blank answer came back as %q", got)
	}
	assertSameOrigin(t, srv.URL, b.Requests())
}

// parameterJourney: the admin adds a dated value of a subsidy parameter
// and finds it in the parameter's history, beside the value in force.
func parameterJourney(t *testing.T, srv *Server) {
	b := srv.Browser(t)
	b.Login("admin")
	if status := b.Visit("/subsidies/parameters"); status != http.StatusOK {
		t.Fatalf("/subsidies/parameters answered %d", status)
	}
	if got := b.Text("h1"); got != "补贴参数" {
		t.Errorf("h1 = %q, want 补贴参数", got)
	}
	rowsBefore := len(b.Texts(`tr[id^="p"]`))

	// 宜昌 raises the appraisal subsidy from next month: a future value for
	// one city, so today's evaluations elsewhere do not change.
	from := today().AddDate(0, 1, 0)
	ref := "宜昌市人社局关于调整技能评价补贴标准的通知（端到端测试）"
	b.Fill(`select[name="name"]`, "appraisal.amount")
	b.Fill(`input[name="region"]`, "420500")
	b.Fill(`input[name="effective_from"]`, day(from))
	b.Fill(`textarea[name="value"]`, "300")
	b.Fill(`textarea[name="reference"]`, ref)
	if status := b.Submit(`form[action="/subsidies/parameters"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("adding the value answered %d: %q %q", status, b.Texts(".alert"), b.Texts(".errors li"))
	}
	u, err := url.Parse(b.Location())
	if err != nil {
		t.Fatal(err)
	}
	added := u.Query().Get("added")
	if u.Path != "/subsidies/parameters" || added == "" {
		t.Fatalf("after adding, the page is %s, want /subsidies/parameters?added=ID", b.Location())
	}
	if notice := b.Text(".notice"); !strings.Contains(notice, "已新增参数取值") {
		t.Errorf("notice = %q, want 已新增参数取值", notice)
	}
	row := b.Text("#p" + added)
	if miss := missing(row, "420500", day(from), "300", ref); len(miss) > 0 {
		t.Errorf("the new row %q lacks %q", row, miss)
	}
	if strings.Contains(row, "今日生效") {
		t.Errorf("a value effective from %s is marked in force today: %q", day(from), row)
	}
	if rowsAfter := len(b.Texts(`tr[id^="p"]`)); rowsAfter != rowsBefore+1 {
		t.Errorf("history has %d rows after adding one to %d", rowsAfter, rowsBefore)
	}
	// The new row sits in the appraisal amount's table, which still has a
	// value in force today (the one that applies until next month).
	group := b.Texts(`section.card:has(#p` + added + `) tbody tr`)
	inForce := 0
	for _, r := range group {
		if strings.Contains(r, "今日生效") {
			inForce++
		}
	}
	if len(group) < 2 || inForce == 0 {
		t.Errorf("the appraisal amount's history %q: want the new row beside a value in force today", group)
	}

	// Every change of a parameter is audited (DESIGN §6.1).
	if status := b.Visit("/admin/audit?target_type=policy_parameter&target_id=" + added); status != http.StatusOK {
		t.Fatalf("the audit log answered %d", status)
	}
	if events := b.Texts("tbody tr"); len(events) != 1 || len(missing(events[0], "subsidies.parameter_add", "admin")) > 0 {
		t.Errorf("the audit log for parameter value %s shows %q, want one subsidies.parameter_add by admin", added, events)
	}
	assertSameOrigin(t, srv.URL, b.Requests())
}

func hasPrefix(list []string, prefix string) bool {
	for _, v := range list {
		if strings.HasPrefix(v, prefix) {
			return true
		}
	}
	return false
}
