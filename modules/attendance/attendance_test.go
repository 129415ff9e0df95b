package attendance_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/app/dbtest"
	"tuoyu/modules/apperr"
	"tuoyu/modules/attendance"
	"tuoyu/modules/attendance/attendancetest"
	"tuoyu/modules/catalog"
	"tuoyu/modules/enrolment"
)

// plannedLessons lays out lessons for courses from day start on: each
// course's hours (want) in lessons of at most 8 hours, at most 8 hours a
// day, as a provider's timetable would.
func plannedLessons(courses []attendance.CourseProgress, start time.Time, want func(attendance.CourseProgress) catalog.Hours, present []int64) []attendance.LessonInput {
	var out []attendance.LessonInput
	day, left := start, catalog.H(8)
	for _, cp := range courses {
		h := want(cp)
		for h > 0 {
			if left == 0 {
				day, left = day.AddDate(0, 0, 1), catalog.H(8)
			}
			n := min(h, left)
			h, left = h-n, left-n
			out = append(out, attendance.LessonInput{Date: day.Format(time.DateOnly), CourseCode: cp.Code, Hours: n, Present: present})
		}
	}
	return out
}

func required(cp attendance.CourseProgress) catalog.Hours { return cp.Required }

func fieldCodes(err error) map[string]string {
	out := map[string]string{}
	if e, ok := apperr.As(err); ok {
		for _, f := range e.Fields {
			out[f.Field] += f.Code + " "
		}
	}
	return out
}

func TestLessonsSumToHoursAndCompleteAtOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "FZR-GW", "420106", "2027-01-04", 20, 10)
	x, y := w.Worker(), w.Worker()
	ex, err := w.Svc.Enrol(ctx, x.P, c.ID, 0)
	w.Must(err)
	ey, err := w.Svc.Enrol(ctx, y.P, c.ID, 0)
	w.Must(err)
	w.Start(w.ProviderA, c)
	v, err := w.Svc.Progress(ctx, x.P, ex.ID)
	w.Must(err)
	// Every required course in full, x and y together, on the days they
	// are held; the clock is the class's last day.
	svc := w.At("2027-01-23")
	plan := plannedLessons(v.Progress.Courses, c.StartsOn, required, []int64{ex.ID, ey.ID})
	last := plan[len(plan)-1]
	var results []attendance.LessonResult
	for _, in := range plan[:len(plan)-1] {
		res, err := svc.RecordLesson(ctx, w.ProviderA, c.ID, in)
		w.Must(err)
		results = append(results, res)
	}
	v, _ = w.Svc.Progress(ctx, x.P, ex.ID)
	if v.Status != enrolment.StatusEnrolled || v.Progress.Complete {
		t.Fatalf("complete before the last lesson: %+v", v.Progress)
	}
	// The last lesson, y absent: x completes in the same call, y does not.
	last.Present = []int64{ex.ID}
	res, err := svc.RecordLesson(ctx, w.ProviderA, c.ID, last)
	w.Must(err)
	if len(res.Completed) != 1 || res.Completed[0] != ex.ID {
		t.Fatalf("last lesson completed %v, want [%d]", res.Completed, ex.ID)
	}
	v, _ = w.Svc.Progress(ctx, x.P, ex.ID)
	if v.Status != enrolment.StatusCompleted || v.CompletedOnText() != "2027-01-23" {
		t.Fatalf("after the last lesson: %s on %q", v.Status, v.CompletedOnText())
	}
	// Recording a later lesson after an earlier one is no correction: a
	// second lesson of LAW-01 above its 8 hours is kept and shown.
	extra, err := svc.RecordLesson(ctx, w.ProviderA, c.ID, attendance.LessonInput{Date: "2027-01-22", CourseCode: "LAW-01", Hours: 25, Present: []int64{ex.ID}})
	w.Must(err)
	v, _ = w.Svc.Progress(ctx, x.P, ex.ID)
	for _, cp := range v.Progress.Courses {
		if cp.Code == "LAW-01" && (cp.Done != catalog.H(8)+25 || cp.Over != 25) {
			t.Errorf("LAW-01 after an extra lesson: done %s, over %s", cp.Done, cp.Over)
		}
	}
	// Correcting a past lesson needs a reason; taking x off a required
	// lesson reopens the enrolment in the same call.
	req := results[0]
	if _, err := svc.CorrectLesson(ctx, w.ProviderA, req.ID, attendance.Correction{Present: []int64{ey.ID}}); !apperr.Is(err, "lesson_invalid") || !strings.Contains(fieldCodes(err)["reason"], "required") {
		t.Fatalf("correction without a reason: %v", err)
	}
	cor, err := svc.CorrectLesson(ctx, w.ProviderA, req.ID, attendance.Correction{Present: []int64{ey.ID}, Reason: "签到表核对：该学员当天请假"})
	w.Must(err)
	if len(cor.Removed) != 1 || cor.Removed[0] != ex.ID || len(cor.Reopened) != 1 {
		t.Fatalf("correction %+v", cor)
	}
	v, _ = w.Svc.Progress(ctx, x.P, ex.ID)
	if v.Status != enrolment.StatusEnrolled || v.CompletedOn != nil {
		t.Fatalf("after the correction: %s", v.Status)
	}
	// Putting x back is a correction too; the history shows both, newest
	// first, with the reasons and who; the audit log has them.
	_, err = svc.CorrectLesson(ctx, w.ProviderA, req.ID, attendance.Correction{Present: []int64{ey.ID, ex.ID}, Reason: "误删，恢复出勤"})
	w.Must(err)
	h, err := w.Svc.History(ctx, x.P, ex.ID)
	w.Must(err)
	if len(h.Changes) != 2 || h.Changes[0].Change != "added" || h.Changes[1].Reason != "签到表核对：该学员当天请假" ||
		h.Changes[1].ChangedBy != w.ProviderA.UserID || h.Changes[0].Date != req.Date {
		t.Errorf("history %+v", h.Changes)
	}
	if len(h.Lessons) != len(plan)+1 {
		t.Errorf("history lists %d lessons, want %d", len(h.Lessons), len(plan)+1)
	}
	var audited int
	w.Must(w.DB.NewRaw("SELECT count(*) FROM audit_events WHERE action = 'attendance.correct' AND target_id = ?", strconv.FormatInt(req.ID, 10)).Scan(ctx, &audited))
	if audited != 2 {
		t.Errorf("%d corrections audited, want 2", audited)
	}
	// An unchanged list is no correction and needs no reason.
	if _, err := svc.CorrectLesson(ctx, w.ProviderA, extra.ID, attendance.Correction{Present: []int64{ex.ID}}); err != nil {
		t.Errorf("unchanged correction: %v", err)
	}
	// Another provider's lesson does not exist for provider B.
	if _, err := svc.CorrectLesson(ctx, w.ProviderB, req.ID, attendance.Correction{Present: nil, Reason: "x"}); !apperr.Is(err, "lesson_not_found") {
		t.Errorf("provider B correcting A's lesson: %v", err)
	}
}

func TestLessonRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "BYS-ZG", "420106", "2027-03-01", 5, 1)
	x, y := w.Worker(), w.Worker()
	e, err := w.Svc.Enrol(ctx, x.P, c.ID, 0)
	w.Must(err)
	waiting, err := w.Svc.Enrol(ctx, y.P, c.ID, 0)
	w.Must(err)
	w.Start(w.ProviderA, c) // the waiting list ends: y's place is cancelled
	svc := w.At("2027-03-03")
	tests := []struct {
		name  string
		in    attendance.LessonInput
		field string
		code  string
	}{
		{"before the class", attendance.LessonInput{Date: "2027-02-28", CourseCode: "LAW-01", Hours: 20, Present: []int64{e.ID}}, "date", "outside_class"},
		{"not held yet", attendance.LessonInput{Date: "2027-03-04", CourseCode: "LAW-01", Hours: 20, Present: []int64{e.ID}}, "date", "future_date"},
		{"no date", attendance.LessonInput{Date: "3/1", CourseCode: "LAW-01", Hours: 20, Present: []int64{e.ID}}, "date", "invalid_date"},
		{"course not in the plan", attendance.LessonInput{Date: "2027-03-01", CourseCode: "SKL-12", Hours: 20, Present: []int64{e.ID}}, "present", "unknown_course"},
		{"unknown course", attendance.LessonInput{Date: "2027-03-01", CourseCode: "XYZ-99", Hours: 20, Present: []int64{e.ID}}, "course_code", "unknown_course"},
		{"tenths", attendance.LessonInput{Date: "2027-03-01", CourseCode: "LAW-01", Hours: 13, Present: []int64{e.ID}}, "hours", "invalid_hours"},
		{"zero", attendance.LessonInput{Date: "2027-03-01", CourseCode: "LAW-01", Hours: 0, Present: []int64{e.ID}}, "hours", "invalid_hours"},
		{"over 8", attendance.LessonInput{Date: "2027-03-01", CourseCode: "LAW-01", Hours: 85, Present: []int64{e.ID}}, "hours", "hours_over_limit"},
		{"nobody", attendance.LessonInput{Date: "2027-03-01", CourseCode: "LAW-01", Hours: 20}, "present", "required"},
		{"waiting list", attendance.LessonInput{Date: "2027-03-01", CourseCode: "LAW-01", Hours: 20, Present: []int64{waiting.ID}}, "present", "not_enrolled"},
		{"stranger", attendance.LessonInput{Date: "2027-03-01", CourseCode: "LAW-01", Hours: 20, Present: []int64{999999}}, "present", "not_enrolled"},
		{"twice", attendance.LessonInput{Date: "2027-03-01", CourseCode: "LAW-01", Hours: 20, Present: []int64{e.ID, e.ID}}, "present", "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.RecordLesson(ctx, w.ProviderA, c.ID, tt.in)
			if !apperr.Is(err, "lesson_invalid") || !strings.Contains(fieldCodes(err)[tt.field], tt.code) {
				t.Errorf("error %v (%v), want %s on %s", err, fieldCodes(err), tt.code, tt.field)
			}
			if ae, _ := apperr.As(err); ae != nil && !strings.ContainsAny(ae.Fields[0].Message, "日期课程学时学员编号") {
				t.Errorf("message %q is not a Chinese reason", ae.Fields[0].Message)
			}
		})
	}
	// 8 hours a day at most: 5 + 3.5 on one day is refused, by the service
	// and by the database.
	first, err := svc.RecordLesson(ctx, w.ProviderA, c.ID, attendance.LessonInput{Date: "2027-03-02", CourseCode: "SAF-01", Hours: 50, Present: []int64{e.ID}})
	w.Must(err)
	_, err = svc.RecordLesson(ctx, w.ProviderA, c.ID, attendance.LessonInput{Date: "2027-03-02", CourseCode: "SKL-01", Hours: 35, Present: []int64{e.ID}})
	if !strings.Contains(fieldCodes(err)["present"], "day_limit") {
		t.Errorf("9.5 hours on a day: %v", err)
	}
	var other int64
	w.Must(w.DB.NewRaw(`INSERT INTO lessons (class_id, course_id, held_on, hours, source)
		SELECT ?, id, '2027-03-02', 3.5, 'form' FROM courses WHERE code = 'SKL-01' RETURNING id`, c.ID).Scan(ctx, &other))
	_, err = w.DB.NewRaw("INSERT INTO lesson_attendees (lesson_id, enrolment_id) VALUES (?, ?)", other, e.ID).Exec(ctx)
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('n') != "lesson_day_limit" {
		t.Errorf("direct insert over 8 hours a day: %v", err)
	}
	// The same course twice on one day is one lesson: correct it instead.
	_, err = svc.RecordLesson(ctx, w.ProviderA, c.ID, attendance.LessonInput{Date: "2027-03-02", CourseCode: "SAF-01", Hours: 10, Present: []int64{e.ID}})
	if !strings.Contains(fieldCodes(err)["date"], "lesson_exists") {
		t.Errorf("second SAF-01 lesson on one day: %v", err)
	}
	h, err := w.Svc.History(ctx, x.P, e.ID)
	w.Must(err)
	if len(h.Lessons) != 1 || h.Lessons[0].ID != first.ID {
		t.Errorf("after refusals %d lessons stored, want only the first", len(h.Lessons))
	}
	// An open class takes no lessons: nobody has attended.
	open := w.Class(w.ProviderA, "BYS-ZG", "420106", "2027-05-01", 5, 1)
	z := w.Worker()
	ez, err := w.Svc.Enrol(ctx, z.P, open.ID, 0)
	w.Must(err)
	_, err = w.At("2027-05-01").RecordLesson(ctx, w.ProviderA, open.ID, attendance.LessonInput{Date: "2027-05-01", CourseCode: "LAW-01", Hours: 10, Present: []int64{ez.ID}})
	if ae, ok := apperr.As(err); !ok || ae.Code != "class_not_running" || ae.Kind != apperr.KindConflict {
		t.Errorf("lesson in an open class: %v", err)
	}
}

func TestSignInSheet(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "FZR-GW", "420106", "2027-04-01", 5, 5)
	x, y := w.Worker(), w.Worker()
	ex, err := w.Svc.Enrol(ctx, x.P, c.ID, 0)
	w.Must(err)
	ey, err := w.Svc.Enrol(ctx, y.P, c.ID, 0)
	w.Must(err)
	w.Start(w.ProviderA, c)
	svc := w.At("2027-04-05")
	stranger := w.Worker()

	bad := "日期,课程代码,学时,身份证号\n" +
		"2027-04-01,LAW-01,4," + x.IDNumber + "\n" + // fine
		"2027-04-01,LAW-01,4," + stranger.IDNumber + "\n" + // not in the class
		"2027-04-01,LAW-01,3," + y.IDNumber + "\n" + // hours differ within the lesson
		"2027-04-01,LAW-02,abc," + x.IDNumber + "\n" + // not a number
		"04/01,LAW-02,2," + x.IDNumber + "\n" + // not a date
		"2027-04-01,LAW-01,4," + x.IDNumber + "\n" // twice
	_, err = svc.ReadSheet(ctx, w.ProviderA, c.ID, []byte(bad), "签到表.csv")
	ae, ok := apperr.As(err)
	if !ok || ae.Code != "lesson_invalid" {
		t.Fatalf("bad sheet: %v", err)
	}
	want := map[int]string{3: "unknown_worker", 4: "hours_mismatch", 5: "invalid_hours", 6: "invalid_date", 7: "duplicate"}
	got := map[int]string{}
	for _, f := range ae.Fields {
		got[f.Row] = f.Code
	}
	for row, code := range want {
		if got[row] != code {
			t.Errorf("row %d: %q, want %q (all %+v)", row, got[row], code, ae.Fields)
		}
	}

	// A good sheet: by ID number (lower-case x) and by enrolment number,
	// two lessons. The preview tells what would happen and stores nothing.
	good := "\ufeff日期,课程代码,学时,身份证号,报名编号\n" +
		"2027-04-01,LAW-01,4," + strings.ToLower(x.IDNumber) + ",\n" +
		"2027-04-01,law-01,4,," + strconv.FormatInt(ey.ID, 10) + "\n" +
		"2027-04-02,LAW-02,3.5,," + strconv.FormatInt(ey.ID, 10) + "\n"
	ins, err := svc.ReadSheet(ctx, w.ProviderA, c.ID, []byte(good), "签到表.csv")
	w.Must(err)
	if len(ins) != 2 || len(ins[0].Present) != 2 || ins[1].Hours != 35 {
		t.Fatalf("lessons of the sheet %+v", ins)
	}
	preview, err := svc.PreviewLessons(ctx, w.ProviderA, c.ID, ins)
	w.Must(err)
	if len(preview) != 2 {
		t.Fatalf("preview %+v", preview)
	}
	if h, _ := w.Svc.History(ctx, y.P, ey.ID); len(h.Lessons) != 0 {
		t.Fatalf("the preview stored %d lessons", len(h.Lessons))
	}
	stored, err := svc.RecordLessons(ctx, w.ProviderA, c.ID, ins)
	w.Must(err)
	if len(stored) != 2 {
		t.Fatalf("stored %+v", stored)
	}
	py, _ := w.Svc.Progress(ctx, y.P, ey.ID)
	for _, cp := range py.Progress.Courses {
		if cp.Code == "LAW-02" && cp.Done != 35 || cp.Code == "LAW-01" && cp.Done != 40 {
			t.Errorf("%s for y: %s", cp.Code, cp.Done)
		}
	}
	// The same sheet again counts nothing twice.
	_, err = svc.RecordLessons(ctx, w.ProviderA, c.ID, ins)
	if !strings.Contains(fieldCodes(err)["date"], "lesson_exists") {
		t.Errorf("sheet uploaded twice: %v", err)
	}
	if h, _ := w.Svc.History(ctx, x.P, ex.ID); len(h.Lessons) != 1 {
		t.Errorf("x attended %d lessons after the second upload, want 1", len(h.Lessons))
	}
	// Missing columns are a file error.
	if _, err := svc.ReadSheet(ctx, w.ProviderA, c.ID, []byte("日期,课程代码,学时\n2027-04-01,LAW-01,1\n"), "a.csv"); !apperr.Is(err, "missing_columns") {
		t.Errorf("no identity column: %v", err)
	}
}

// The migration to lessons carries every total over as one lesson dated the
// class's last day, so nobody's progress changes. It runs on a database in
// the shape before it: the migration's own down, then some totals no lesson
// could hold (above 8 hours, in tenths), then its up.
func TestMigrationCarriesTotalsOver(t *testing.T) {
	db := dbtest.FreshMigrated(t)
	w := attendancetest.NewWorld(t, db)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "FZR-GW", "420106", "2027-06-01", 10, 5)
	x, y := w.Worker(), w.Worker()
	ex, err := w.Svc.Enrol(ctx, x.P, c.ID, 0)
	w.Must(err)
	ey, err := w.Svc.Enrol(ctx, y.P, c.ID, 0)
	w.Must(err)
	w.Start(w.ProviderA, c)
	v, _ := w.Svc.Progress(ctx, x.P, ex.ID)
	for _, in := range plannedLessons(v.Progress.Courses, c.StartsOn, required, []int64{ex.ID}) {
		_, err := w.At("2027-06-10").RecordLesson(ctx, w.ProviderA, c.ID, in)
		w.Must(err)
	}
	_, err = w.At("2027-06-10").RecordLesson(ctx, w.ProviderA, c.ID, attendance.LessonInput{Date: "2027-06-09", CourseCode: "LAW-01", Hours: 30, Present: []int64{ey.ID}})
	w.Must(err)

	run := func(name string) {
		t.Helper()
		sqlText, err := os.ReadFile("../../migrations/" + name)
		w.Must(err)
		if _, err := db.DB.ExecContext(ctx, string(sqlText)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	run("20261203100000_attendance_lessons.down.sql")
	// Totals as the old forms kept them: x's law course 8 → 7.3 hours
	// (a correction once), y's 3 hours.
	_, err = db.NewRaw(`UPDATE attendance SET hours = 7.3 WHERE enrolment_id = ? AND course_id = (SELECT id FROM courses WHERE code = 'LAW-01')`, ex.ID).Exec(ctx)
	w.Must(err)
	before := map[int64]attendance.Progress{}
	for _, e := range []int64{ex.ID, ey.ID} {
		var rows []struct {
			CourseID int64         `bun:"course_id"`
			Hours    catalog.Hours `bun:"hours"`
		}
		w.Must(db.NewRaw("SELECT course_id, hours FROM attendance WHERE enrolment_id = ?", e).Scan(ctx, &rows))
		hours := map[int64]catalog.Hours{}
		for _, r := range rows {
			hours[r.CourseID] = r.Hours
		}
		vs, err := w.Catalog.Versions(ctx, db, []int64{ex.PlanVersionID})
		w.Must(err)
		before[e] = attendance.Complete(vs[ex.PlanVersionID], hours)
	}
	run("20261203100000_attendance_lessons.up.sql")

	for _, e := range []int64{ex.ID, ey.ID} {
		after, err := w.Svc.Progress(ctx, w.Admin, e)
		w.Must(err)
		b := before[e]
		if after.Progress.Total != b.Total || after.Progress.Complete != b.Complete || len(after.Progress.Courses) != len(b.Courses) {
			t.Fatalf("enrolment %d: progress %+v after, %+v before", e, after.Progress, b)
		}
		for i, cp := range after.Progress.Courses {
			if cp.Done != b.Courses[i].Done {
				t.Errorf("enrolment %d course %s: %s after, %s before", e, cp.Code, cp.Done, b.Courses[i].Done)
			}
		}
		h, err := w.Svc.History(ctx, w.Admin, e)
		w.Must(err)
		for _, l := range h.Lessons {
			if !l.CarriedOver || l.Date != "2027-06-10" || len(l.Present) != 1 || l.Present[0] != e {
				t.Errorf("carried-over lesson %+v", l)
			}
		}
	}
	var n int
	w.Must(db.NewRaw("SELECT count(*) FROM lessons WHERE carried_over").Scan(ctx, &n))
	if want := len(before[ex.ID].Courses) + 1; n != want {
		t.Errorf("%d carried-over lessons, want %d (one per enrolment and course with hours)", n, want)
	}
	// A carried-over total belongs to its person: it can be taken away,
	// not given to someone else.
	h, _ := w.Svc.History(ctx, w.Admin, ey.ID)
	_, err = w.At("2027-06-10").CorrectLesson(ctx, w.ProviderA, h.Lessons[0].ID, attendance.Correction{Present: []int64{ey.ID, ex.ID}, Reason: "合并"})
	if !apperr.Is(err, "carried_over") {
		t.Errorf("adding to a carried-over lesson: %v", err)
	}
}

// TestLessonNeedsOneConnection: recording and correcting a lesson use only
// their transaction's connection. The load test at a million workers saw
// lessons fail after 10 s: the transaction held the class's lock and waited
// for a second pool connection to read the courses, while every other
// connection of the pool waited for that lock.
func TestLessonNeedsOneConnection(t *testing.T) {
	w := newWorld(t)
	c := w.Class(w.ProviderA, "FZR-GW", "420106", "2027-05-03", 20, 10)
	x := w.Worker()
	e, err := w.Svc.Enrol(context.Background(), x.P, c.ID, 0)
	w.Must(err)
	w.Start(w.ProviderA, c)
	svc := w.At("2027-05-10")

	limit := w.DB.DB.Stats().MaxOpenConnections
	w.DB.DB.SetMaxOpenConns(1)
	defer w.DB.DB.SetMaxOpenConns(limit)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := svc.RecordLesson(ctx, w.ProviderA, c.ID, attendance.LessonInput{Date: "2027-05-04", CourseCode: "LAW-01", Hours: 40, Present: []int64{e.ID}})
	if err != nil {
		t.Fatalf("recording a lesson on one connection: %v", err)
	}
	if _, err := svc.CorrectLesson(ctx, w.ProviderA, res.ID, attendance.Correction{Present: []int64{}, Reason: "签到表核对：当天缺席"}); err != nil {
		t.Fatalf("correcting a lesson on one connection: %v", err)
	}
}
