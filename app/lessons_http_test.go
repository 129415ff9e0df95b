package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"
	"time"
)

type lessonBody struct {
	ID          int64   `json:"id"`
	Date        string  `json:"date"`
	CourseCode  string  `json:"course_code"`
	Hours       float64 `json:"hours"`
	CarriedOver bool    `json:"carried_over"`
	Present     []int64 `json:"present"`
	Removed     []int64 `json:"removed"`
}

func TestLessonsHTTP(t *testing.T) {
	a := testApp(t)
	p1 := login(t, "provider1")
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	day := func(n int) string { return time.Now().In(shanghai).AddDate(0, 0, n).Format(time.DateOnly) }
	_, body := p1.do("GET", "/api/v1/classes?state=running", nil)
	running := decode[struct {
		Items []classBody `json:"items"`
	}](t, body).Items[0]
	path := fmt.Sprintf("/api/v1/classes/%d", running.ID)
	_, body = p1.do("GET", path+"/enrolments", nil)
	roster := decode[struct {
		Items []struct {
			ID       int64 `json:"id"`
			WorkerID int64 `json:"worker_id"`
			Status   string
			Progress struct {
				Courses []struct {
					Code string  `json:"code"`
					Done float64 `json:"done_hours"`
				} `json:"courses"`
			} `json:"progress"`
		} `json:"items"`
	}](t, body).Items
	if len(roster) < 2 {
		t.Fatal("running demo class has no roster")
	}
	first, second := roster[0], roster[1]
	course := first.Progress.Courses[len(first.Progress.Courses)-1]

	// The demo's lessons are listed, oldest first.
	_, body = p1.do("GET", path+"/lessons", nil)
	if listed := decode[struct {
		Items []lessonBody `json:"items"`
		Total int          `json:"total"`
	}](t, body); listed.Total == 0 || listed.Items[0].Date > listed.Items[len(listed.Items)-1].Date {
		t.Errorf("lessons of the running class: %s", body)
	}

	// Everything wrong at once: 422, one error per field, nothing stored.
	res, body := p1.do("POST", path+"/lessons", map[string]any{"date": "yesterday", "course_code": "NOPE-01", "hours": 9, "present": []int64{999999}})
	if res.StatusCode != 422 || problemCode(t, body) != "lesson_invalid" {
		t.Fatalf("bad lesson: %d %s", res.StatusCode, body)
	}
	for _, f := range []string{`"field":"date"`, `"field":"course_code"`, `"field":"hours"`, `"field":"present"`} {
		if !strings.Contains(string(body), f) {
			t.Errorf("bad lesson: no %s in %s", f, body)
		}
	}
	raw := fmt.Sprintf(`{"date":%q,"course_code":%q,"hours":1.25,"present":[%d]}`, day(0), course.Code, first.ID)
	if res, body := p1.do("POST", path+"/lessons", json.RawMessage(raw)); res.StatusCode != 422 || !strings.Contains(string(body), `"field":"hours"`) {
		t.Errorf("hours 1.25: %d %s", res.StatusCode, body)
	}

	// Today's lesson: 201, hours counted at once.
	res, body = p1.do("POST", path+"/lessons", map[string]any{"date": day(0), "course_code": course.Code, "hours": 2.5, "present": []int64{first.ID, second.ID}})
	if res.StatusCode != 201 {
		t.Fatalf("record lesson: %d %s", res.StatusCode, body)
	}
	lesson := decode[lessonBody](t, body)
	if len(lesson.Present) != 2 || lesson.Hours != 2.5 || lesson.Date != day(0) {
		t.Errorf("recorded lesson %+v", lesson)
	}
	_, body = p1.do("GET", fmt.Sprintf("/api/v1/enrolments/%d", first.ID), nil)
	if !strings.Contains(string(body), fmt.Sprintf(`"code":%q,"title"`, course.Code)) {
		t.Fatalf("progress: %s", body)
	}

	// Correcting it needs a reason; with one, the history shows it.
	lessonPath := fmt.Sprintf("/api/v1/lessons/%d", lesson.ID)
	res, body = p1.do("PATCH", lessonPath, map[string]any{"present": []int64{second.ID}})
	if res.StatusCode != 422 || !strings.Contains(string(body), `"field":"reason"`) {
		t.Errorf("correction without reason: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("PATCH", lessonPath, map[string]any{"present": []int64{second.ID}, "reason": "签到表核对有误"})
	if res.StatusCode != 200 || len(decode[lessonBody](t, body).Removed) != 1 {
		t.Errorf("correction: %d %s", res.StatusCode, body)
	}
	if res, _ := login(t, "provider2").do("PATCH", lessonPath, map[string]any{"present": []int64{}, "reason": "x"}); res.StatusCode != 404 {
		t.Errorf("provider2 corrects provider1's lesson: %d", res.StatusCode)
	}
	_, body = p1.do("GET", fmt.Sprintf("/api/v1/enrolments/%d/history", first.ID), nil)
	if !strings.Contains(string(body), "签到表核对有误") || !strings.Contains(string(body), `"change":"removed"`) {
		t.Errorf("history: %s", body)
	}
	if _, body := p1.do("GET", fmt.Sprintf("/enrolments/%d", first.ID), nil); !strings.Contains(string(body), "签到表核对有误") || !strings.Contains(string(body), "取消出勤") {
		t.Errorf("the progress page does not show the correction")
	}

	// A sign-in sheet: previewed (nothing stored), then stored with
	// confirm=true.
	var enc []byte
	if err := a.DB.NewRaw("SELECT id_number_enc FROM workers WHERE id = ?", first.WorkerID).Scan(context.Background(), &enc); err != nil {
		t.Fatal(err)
	}
	idNumber, err := a.Cipher.Decrypt(enc)
	if err != nil {
		t.Fatal(err)
	}
	sheetCode := first.Progress.Courses[0].Code
	upload := func(csv, confirm string) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "签到表.csv")
		fw.Write([]byte(csv))
		if confirm != "" {
			mw.WriteField("confirm", confirm)
		}
		mw.Close()
		res, body := p1.do("POST", path+"/lessons/sheet", &buf, "Content-Type", mw.FormDataContentType())
		return res.StatusCode, string(body)
	}
	sheet := "日期,课程代码,学时,身份证号,报名编号\n" + day(-1) + "," + sheetCode + ",1.5," + idNumber + ",\n" +
		day(-1) + "," + sheetCode + ",1.5,," + fmt.Sprint(second.ID) + "\n"
	if code, out := upload(sheet+day(-1)+","+sheetCode+",1.5,110101199001011237,\n", ""); code != 422 || !strings.Contains(out, `"row":4`) {
		t.Errorf("bad sheet: %d %s", code, out)
	}
	if code, out := upload(sheet, "maybe"); code != 422 {
		t.Errorf("confirm=maybe: %d %s", code, out)
	}
	code, out := upload(sheet, "")
	if code != 200 || !strings.Contains(out, `"stored":false`) {
		t.Fatalf("preview: %d %s", code, out)
	}
	count := func() int {
		var n int
		if err := a.DB.NewRaw("SELECT count(*) FROM lessons WHERE class_id = ?", running.ID).Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	if code, out := upload(sheet, ""); code != 200 || count() != before {
		t.Errorf("a second preview stored something: %d %s", code, out)
	}
	if code, out := upload(sheet, "true"); code != 201 || !strings.Contains(out, `"stored":true`) || count() != before+1 {
		t.Errorf("store: %d %s", code, out)
	}

	// The page: the grid with tick boxes records a lesson; the lesson page
	// corrects it with a reason.
	page := fmt.Sprintf("/classes/%d/lessons", running.ID)
	if _, body := p1.do("GET", page, nil); !strings.Contains(string(body), `type="checkbox" name="present"`) {
		t.Fatalf("the grid has no tick boxes")
	}
	form := url.Values{"date": {day(-1)}, "course_code": {first.Progress.Courses[1].Code}, "hours": {"2"},
		"present": {fmt.Sprint(first.ID), fmt.Sprint(second.ID)}}
	res, body = p1.do("POST", page, form.Encode())
	if res.StatusCode != 200 || !strings.Contains(string(body), "出勤 2 人") {
		t.Errorf("grid form: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("POST", page, url.Values{"date": {day(-1)}, "course_code": {first.Progress.Courses[1].Code}, "hours": {"abc"}}.Encode())
	if res.StatusCode != 422 || !strings.Contains(string(body), "以 0.5 为单位") {
		t.Errorf("grid form with bad hours: %d", res.StatusCode)
	}
	lp := fmt.Sprintf("/lessons/%d", lesson.ID)
	if res, body := p1.do("GET", lp, nil); res.StatusCode != 200 || !strings.Contains(string(body), "更正原因") {
		t.Errorf("lesson page: %d", res.StatusCode)
	}
	res, _ = p1.do("POST", lp, url.Values{"present": {fmt.Sprint(first.ID), fmt.Sprint(second.ID)}}.Encode())
	if res.StatusCode != 422 {
		t.Errorf("page correction without reason: %d", res.StatusCode)
	}
	res, body = p1.do("POST", lp, url.Values{"present": {fmt.Sprint(first.ID), fmt.Sprint(second.ID)}, "reason": {"补签"}}.Encode())
	if res.StatusCode != 200 || !strings.Contains(string(body), "补记 1 人") {
		t.Errorf("page correction: %d", res.StatusCode)
	}
}
