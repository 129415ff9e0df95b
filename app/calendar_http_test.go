package app

import (
	"net/url"
	"strings"
	"testing"
)

type calendarYear struct {
	Year int `json:"year"`
	Days []struct {
		Date string `json:"date"`
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"days"`
}

func TestCalendarAnyoneReadsTheShippedYear(t *testing.T) {
	res, body := anon(t).do("GET", "/api/v1/calendar/2026", nil)
	if res.StatusCode != 200 {
		t.Fatalf("GET 2026: %d %s", res.StatusCode, body)
	}
	y := decode[calendarYear](t, body)
	found := false
	for _, d := range y.Days {
		if d.Date == "2026-10-10" && d.Kind == "workday" && d.Name == "国庆节" {
			found = true
		}
	}
	if y.Year != 2026 || len(y.Days) != 39 || !found {
		t.Fatalf("2026 = %d with %d days (want 33 holidays + 6 workdays incl. 2026-10-10): %s", y.Year, len(y.Days), body)
	}
	for _, bad := range []string{"/api/v1/calendar/1999", "/api/v1/calendar/abc"} {
		if res, body := anon(t).do("GET", bad, nil); res.StatusCode != 422 || problemCode(t, body) != "invalid_year" {
			t.Errorf("GET %s: %d %s", bad, res.StatusCode, body)
		}
	}
}

func TestCalendarWorkingDays(t *testing.T) {
	res, body := anon(t).do("GET", "/api/v1/calendar/working-days?from=2026-09-29&add=5", nil)
	if res.StatusCode != 200 || string(body) != `{"add":5,"date":"2026-10-12","from":"2026-09-29"}` {
		t.Fatalf("working-days: %d %s", res.StatusCode, body)
	}
	for _, q := range []string{"", "?from=2026-09-29", "?from=2026-02-30&add=1", "?from=2026-09-29&add=-1", "?from=2026-09-29&add=367", "?from=x&add=y"} {
		res, body := anon(t).do("GET", "/api/v1/calendar/working-days"+q, nil)
		if res.StatusCode != 422 || problemCode(t, body) != "invalid_parameters" {
			t.Errorf("working-days%s: %d %s", q, res.StatusCode, body)
		}
	}
	res, body = anon(t).do("GET", "/api/v1/calendar/working-days?from=x&add=y", nil)
	if !strings.Contains(string(body), `"field":"from"`) || !strings.Contains(string(body), `"field":"add"`) {
		t.Errorf("both bad parameters are not named at once: %s", body)
	}
}

func TestCalendarOnlyAdminReplacesAYear(t *testing.T) {
	days := map[string]any{"days": []map[string]string{
		{"date": "2031-01-01", "kind": "holiday", "name": "元旦"},
		{"date": "2031-01-04", "kind": "workday", "name": "元旦"},
	}}
	if res, body := anon(t).do("PUT", "/api/v1/calendar/2031", days); res.StatusCode != 401 {
		t.Errorf("anonymous PUT: %d %s", res.StatusCode, body)
	}
	if res, body := login(t, "provider1").do("PUT", "/api/v1/calendar/2031", days); res.StatusCode != 403 {
		t.Errorf("provider PUT: %d %s", res.StatusCode, body)
	}
	admin := login(t, "admin")
	res, body := admin.do("PUT", "/api/v1/calendar/2031", days)
	if res.StatusCode != 200 {
		t.Fatalf("admin PUT: %d %s", res.StatusCode, body)
	}
	_, body = anon(t).do("GET", "/api/v1/calendar/2031", nil)
	if y := decode[calendarYear](t, body); len(y.Days) != 2 || y.Days[1].Kind != "workday" {
		t.Fatalf("2031 after PUT: %s", body)
	}
	// 2031-01-03 is a Friday; the Saturday 2031-01-04 is now worked.
	if _, body := anon(t).do("GET", "/api/v1/calendar/working-days?from=2031-01-03&add=1", nil); !strings.Contains(string(body), `"date":"2031-01-04"`) {
		t.Errorf("the adjusted Saturday is not counted: %s", body)
	}

	// Bad rows: one error per bad field, naming the row; nothing changes.
	res, body = admin.do("PUT", "/api/v1/calendar/2031", map[string]any{"days": []map[string]string{
		{"date": "2031-05-01", "kind": "holiday", "name": "劳动节"},
		{"date": "2030-05-02", "kind": "holiday", "name": "劳动节"},
		{"date": "2031-05-01", "kind": "off", "name": ""},
	}})
	if res.StatusCode != 422 || problemCode(t, body) != "invalid_calendar" {
		t.Fatalf("bad PUT: %d %s", res.StatusCode, body)
	}
	p := decode[struct {
		Errors []struct {
			Field string `json:"field"`
			Row   int    `json:"row"`
			Code  string `json:"code"`
		} `json:"errors"`
	}](t, body)
	if len(p.Errors) != 4 || p.Errors[0].Row != 2 || p.Errors[0].Code != "wrong_year" || p.Errors[1].Row != 3 {
		t.Errorf("errors: %s", body)
	}
	if _, body := anon(t).do("GET", "/api/v1/calendar/2031", nil); len(decode[calendarYear](t, body).Days) != 2 {
		t.Errorf("a refused PUT changed the year: %s", body)
	}
	for _, b := range []any{map[string]any{}, map[string]any{"days": "x"}, map[string]any{"days": []any{}, "extra": 1}} {
		if res, body := admin.do("PUT", "/api/v1/calendar/2031", b); res.StatusCode != 422 {
			t.Errorf("PUT %v: %d %s", b, res.StatusCode, body)
		}
	}
	var n int
	if err := admin.a.DB.NewSelect().Table("audit_events").ColumnExpr("count(*)").
		Where("action = 'calendar.replace_year' AND target_id = '2031'").Scan(t.Context(), &n); err != nil || n != 1 {
		t.Errorf("audit events for 2031: %d %v", n, err)
	}
}

func TestCalendarPages(t *testing.T) {
	res, body := anon(t).do("GET", "/calendar/2026", nil)
	page := string(body)
	if res.StatusCode != 200 || !strings.Contains(page, "2026 年工作日历") || !strings.Contains(page, `class="cal-workday" title="国庆节 调休上班"`) {
		t.Fatalf("calendar page: %d", res.StatusCode)
	}
	if strings.Contains(page, "<textarea") {
		t.Error("an anonymous visitor sees the edit form")
	}
	if res, _ := anon(t).do("GET", "/calendar", nil); res.StatusCode != 200 {
		t.Errorf("/calendar: %d", res.StatusCode)
	}
	if res, _ := login(t, "provider1").do("POST", "/calendar/2032", "days="+url.QueryEscape("2032-01-01 holiday 元旦")); res.StatusCode != 403 {
		t.Errorf("provider posts the form: %d", res.StatusCode)
	}

	admin := login(t, "admin")
	_, body = admin.do("GET", "/calendar/2032", nil)
	if !strings.Contains(string(body), "<textarea") {
		t.Fatal("the admin sees no edit form")
	}
	form := "days=" + url.QueryEscape("# 2032\n2032-01-01 holiday 元旦\n\n2032-02-30 放假 春节\n2032-01-01 班\n")
	res, body = admin.do("POST", "/calendar/2032", form)
	page = string(body)
	if res.StatusCode != 422 || !strings.Contains(page, "第 4 行 <code>2032-02-30 放假 春节</code>：日期「2032-02-30」无效") ||
		!strings.Contains(page, "第 5 行 <code>2032-01-01 班</code>：日期 2032-01-01 与第 1 行重复") ||
		!strings.Contains(page, "请填写节日名称") {
		t.Fatalf("form with bad lines: %d %s", res.StatusCode, page)
	}
	res, _ = admin.do("POST", "/calendar/2032", "days="+url.QueryEscape("2032-01-01 holiday 元旦\n2032-01-03 调休上班 元旦\n"))
	if res.StatusCode != 303 || res.Header.Get("Location") != "/calendar/2032?saved=1" {
		t.Fatalf("good form: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = anon(t).do("GET", "/api/v1/calendar/2032", nil)
	if y := decode[calendarYear](t, body); len(y.Days) != 2 || y.Days[1].Kind != "workday" || y.Days[1].Date != "2032-01-03" {
		t.Errorf("2032 after the form: %s", body)
	}
}
