package attendance_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/modules/apperr"
	"tuoyu/modules/attendance"
	"tuoyu/modules/catalog"
	"tuoyu/modules/enrolment"
)

// hoursFor sets, for one enrolment, every course of its plan to its required
// hours (or its maximum where the category minimum needs more).
func fullHours(v attendance.Enrolment) []attendance.Entry {
	var es []attendance.Entry
	for i, c := range v.Progress.Courses {
		es = append(es, attendance.Entry{Row: i + 1, EnrolmentID: v.ID, CourseID: c.CourseID, Hours: c.Required})
	}
	return es
}

func TestCompletionFlipsWithAttendanceAndBack(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.class(w.providerA, "BYS-GQ", "420106", "2027-01-04", 20, 10)
	x := w.worker()
	e, err := w.svc.Enrol(ctx, x.P, c.ID, 0)
	w.must(err)
	w.start(w.providerA, c)
	v, err := w.svc.Progress(ctx, x.P, e.ID)
	w.must(err)
	// BYS-GQ: every course at its required hours is exactly 120 and meets
	// every category minimum. Record all but the last tenth.
	entries := fullHours(v)
	last := &entries[len(entries)-1]
	last.Hours--
	res, err := w.svc.RecordAttendance(ctx, w.providerA, c.ID, entries, attendance.SourceForm)
	w.must(err)
	if len(res.Completed) != 0 {
		t.Fatalf("complete one tenth short: %+v", res)
	}
	v, _ = w.svc.Progress(ctx, x.P, e.ID)
	if v.Status != enrolment.StatusEnrolled || v.Progress.Complete || v.CompletedOn != nil {
		t.Fatalf("one tenth short: %+v", v)
	}
	// The last tenth completes the plan, dated today. Raising hours that
	// were recorded is a correction and needs a reason.
	fix := []attendance.Entry{{Row: 1, EnrolmentID: e.ID, CourseID: last.CourseID, Hours: last.Hours + 1}}
	if _, err := w.svc.RecordAttendance(ctx, w.providerA, c.ID, fix, attendance.SourceForm); !apperr.Is(err, "attendance_invalid") {
		t.Fatalf("correction without reason: %v", err)
	}
	fix[0].Reason = "补录最后一节课"
	res, err = w.svc.RecordAttendance(ctx, w.providerA, c.ID, fix, attendance.SourceForm)
	w.must(err)
	if len(res.Completed) != 1 || res.Completed[0] != e.ID {
		t.Fatalf("last tenth: %+v", res)
	}
	v, _ = w.svc.Progress(ctx, x.P, e.ID)
	if v.Status != enrolment.StatusCompleted || v.CompletedOnText() != "2026-12-01" || !v.Progress.Complete {
		t.Fatalf("after the last tenth: status %s, completed on %q", v.Status, v.CompletedOnText())
	}
	// A correction taking an hour away reopens it.
	back := []attendance.Entry{{Row: 1, EnrolmentID: e.ID, CourseID: entries[0].CourseID, Hours: entries[0].Hours - 10, Reason: "考勤记录有误"}}
	res, err = w.svc.RecordAttendance(ctx, w.providerA, c.ID, back, attendance.SourceForm)
	w.must(err)
	v, _ = w.svc.Progress(ctx, x.P, e.ID)
	if len(res.Reopened) != 1 || v.Status != enrolment.StatusEnrolled || v.CompletedOn != nil {
		t.Fatalf("after the correction: %+v, status %s", res, v.Status)
	}
	// Every change is kept with who and why.
	var changes []struct {
		Reason    string `bun:"reason"`
		ChangedBy int64  `bun:"changed_by"`
	}
	w.must(w.db.NewRaw(`SELECT ac.reason, ac.changed_by FROM attendance_changes ac JOIN attendance a ON a.id = ac.attendance_id
		WHERE a.enrolment_id = ? AND ac.old_hours IS NOT NULL ORDER BY ac.id`, e.ID).Scan(ctx, &changes))
	if len(changes) != 2 || changes[0].Reason != "补录最后一节课" || changes[1].ChangedBy != w.providerA.UserID {
		t.Errorf("correction history %+v", changes)
	}
}

func TestCompletionKeepsThePlanVersionEnrolledUnder(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.class(w.providerA, "BYS-3", "420106", "2027-02-01", 20, 10)
	early := w.worker()
	e1, err := w.svc.Enrol(ctx, early.P, c.ID, 0)
	w.must(err)
	// The admin raises the total of BYS-3 by making one elective course
	// required: a new version, because early is enrolled under version 1.
	plan, err := w.catalog.Plan(ctx, "BYS-3")
	w.must(err)
	in := catalog.VersionInput{MinTotalHours: plan.Current.MinTotalHours + catalog.H(4), PassMark: 60, MaxAttempts: 2, Minimums: map[catalog.Category]catalog.Hours{}}
	for _, m := range plan.Current.Minimums {
		in.Minimums[m.Category] = m.Min
	}
	in.Minimums[catalog.CategorySkills] += catalog.H(4)
	for _, pc := range plan.Current.Courses {
		in.Courses = append(in.Courses, catalog.VersionCourseInput{Code: pc.Code, Hours: pc.Required})
	}
	in.Courses = append(in.Courses, catalog.VersionCourseInput{Code: "SKL-09", Hours: catalog.H(4)})
	v2, created, err := w.catalog.EditPlan(ctx, plan.ID, in)
	w.must(err)
	if !created {
		t.Fatal("edit of a plan in use did not make a new version")
	}
	late := w.worker()
	e2, err := w.svc.Enrol(ctx, late.P, c.ID, 0)
	w.must(err)
	if e2.PlanVersionID != v2.ID || e1.PlanVersionID == v2.ID {
		t.Fatalf("versions: early %d, late %d, new %d", e1.PlanVersionID, e2.PlanVersionID, v2.ID)
	}
	w.start(w.providerA, c)
	// The same hours (version 1's requirements) complete early but not late.
	p1, _ := w.svc.Progress(ctx, early.P, e1.ID)
	var entries []attendance.Entry
	for _, cp := range p1.Progress.Courses {
		entries = append(entries,
			attendance.Entry{Row: len(entries) + 1, EnrolmentID: e1.ID, CourseID: cp.CourseID, Hours: cp.Required},
			attendance.Entry{Row: len(entries) + 2, EnrolmentID: e2.ID, CourseID: cp.CourseID, Hours: cp.Required})
	}
	res, err := w.svc.RecordAttendance(ctx, w.providerA, c.ID, entries, attendance.SourceForm)
	w.must(err)
	if len(res.Completed) != 1 || res.Completed[0] != e1.ID {
		t.Fatalf("completed %v, want only the early enrolment %d", res.Completed, e1.ID)
	}
	// The course new in version 2 is part of late's plan and completes it.
	var skl09 int64
	w.must(w.db.NewRaw("SELECT id FROM courses WHERE code = 'SKL-09'").Scan(ctx, &skl09))
	res, err = w.svc.RecordAttendance(ctx, w.providerA, c.ID, []attendance.Entry{{Row: 1, EnrolmentID: e2.ID, CourseID: skl09, Hours: catalog.H(4)}}, attendance.SourceForm)
	w.must(err)
	if len(res.Completed) != 1 || res.Completed[0] != e2.ID {
		t.Fatalf("version 2 course: completed %v", res.Completed)
	}
	// For early, SKL-09 is not in their version: refused.
	_, err = w.svc.RecordAttendance(ctx, w.providerA, c.ID, []attendance.Entry{{Row: 1, EnrolmentID: e1.ID, CourseID: skl09, Hours: 1}}, attendance.SourceForm)
	if e, ok := apperr.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Code != "unknown_course" {
		t.Errorf("course outside the early version: %v", err)
	}
}

func TestAttendanceRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.class(w.providerA, "BYS-ZG", "420106", "2027-03-01", 5, 1)
	x, y := w.worker(), w.worker()
	e, err := w.svc.Enrol(ctx, x.P, c.ID, 0)
	w.must(err)
	waiting, err := w.svc.Enrol(ctx, y.P, c.ID, 0)
	w.must(err)
	w.start(w.providerA, c) // the waiting list ends: y's place is cancelled
	v, _ := w.svc.Progress(ctx, x.P, e.ID)
	course := v.Progress.Courses[0] // LAW-01, 8 hours
	var fzr int64
	w.must(w.db.NewRaw("SELECT id FROM courses WHERE code = 'SKL-12'").Scan(ctx, &fzr))
	entries := []attendance.Entry{
		{Row: 1, EnrolmentID: e.ID, CourseID: course.CourseID, Hours: 1}, // fine on its own
		{Row: 2, EnrolmentID: e.ID, CourseID: v.Progress.Courses[1].CourseID, Hours: course.Max + 100},
		{Row: 3, EnrolmentID: e.ID, CourseID: v.Progress.Courses[2].CourseID, Hours: -5},
		{Row: 4, EnrolmentID: e.ID, CourseID: fzr, Hours: 1},
		{Row: 5, EnrolmentID: waiting.ID, CourseID: course.CourseID, Hours: 1},
		{Row: 6, EnrolmentID: 999999, CourseID: course.CourseID, Hours: 1},
		{Row: 7, EnrolmentID: e.ID, CourseID: course.CourseID, Hours: 2},
	}
	_, err = w.svc.RecordAttendance(ctx, w.providerA, c.ID, entries, attendance.SourceForm)
	ae, ok := apperr.As(err)
	if !ok || ae.Code != "attendance_invalid" {
		t.Fatalf("error %v", err)
	}
	want := map[int]string{2: "hours_over_limit", 3: "negative", 4: "unknown_course", 5: "not_enrolled", 6: "not_enrolled", 7: "duplicate"}
	got := map[int]string{}
	for _, f := range ae.Fields {
		got[f.Row] = f.Code
		if f.Message == "" || !strings.ContainsAny(f.Message, "学时课程本班重复") {
			t.Errorf("row %d message %q is not a Chinese reason", f.Row, f.Message)
		}
	}
	for row, code := range want {
		if got[row] != code {
			t.Errorf("row %d: %q, want %q (all %v)", row, got[row], code, got)
		}
	}
	// Nothing was stored, not even row 1.
	var n int
	w.must(w.db.NewRaw("SELECT count(*) FROM attendance WHERE enrolment_id = ?", e.ID).Scan(ctx, &n))
	if n != 0 {
		t.Errorf("%d attendance rows stored after a refused batch", n)
	}
	// The database itself refuses hours above the course's hours.
	_, err = w.db.NewRaw("INSERT INTO attendance (enrolment_id, course_id, hours) VALUES (?, ?, ?)", e.ID, course.CourseID, "999.0").Exec(ctx)
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('n') != "attendance_within_course" {
		t.Errorf("direct insert above the course hours: %v", err)
	}
	// A draft, open or cancelled class takes no hours: nobody has attended.
	open := w.class(w.providerA, "BYS-ZG", "420106", "2027-05-01", 5, 1)
	z := w.worker()
	ez, err := w.svc.Enrol(ctx, z.P, open.ID, 0)
	w.must(err)
	early := []attendance.Entry{{Row: 1, EnrolmentID: ez.ID, CourseID: course.CourseID, Hours: 1}}
	_, err = w.svc.RecordAttendance(ctx, w.providerA, open.ID, early, attendance.SourceForm)
	if ae, ok := apperr.As(err); !ok || ae.Code != "class_not_running" || ae.Kind != apperr.KindConflict || !strings.Contains(ae.Message, "开始培训后") {
		t.Errorf("hours in an open class: %v", err)
	}
	if _, err := w.svc.ImportAttendance(ctx, w.providerA, open.ID, []byte("报名编号,课程代码,学时\n"+itoa(ez.ID)+",LAW-01,1\n"), "a.csv"); !apperr.Is(err, "class_not_running") {
		t.Errorf("hours file for an open class: %v", err)
	}
	w.must(w.db.NewRaw("SELECT count(*) FROM attendance WHERE enrolment_id = ?", ez.ID).Scan(ctx, &n))
	if n != 0 {
		t.Errorf("%d attendance rows stored for an open class", n)
	}
	d := w.draft(w.providerA, "BYS-ZG", "420106", "2027-06-01", 5, 1)
	if _, err := w.svc.RecordAttendance(ctx, w.providerA, d.ID, entries[:1], attendance.SourceForm); !apperr.Is(err, "class_not_running") {
		t.Errorf("hours in a draft class: %v", err)
	}
}

func TestImportAttendance(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.class(w.providerA, "FZR-GW", "420106", "2027-04-01", 5, 5)
	x, y := w.worker(), w.worker()
	ex, err := w.svc.Enrol(ctx, x.P, c.ID, 0)
	w.must(err)
	ey, err := w.svc.Enrol(ctx, y.P, c.ID, 0)
	w.must(err)
	w.start(w.providerA, c)
	stranger := w.worker()

	bad := "身份证号,课程代码,学时,更正原因\n" +
		x.IDNumber + ",LAW-01,8,\n" + // fine
		stranger.IDNumber + ",LAW-01,2,\n" + // not in the class
		x.IDNumber + ",XYZ-99,2,\n" + // unknown course
		x.IDNumber + ",LAW-02,abc,\n" + // not a number
		x.IDNumber + ",LAW-04,7,\n" + // LAW-04 has 6 hours
		y.IDNumber + ",SAF-02,-1,\n" // negative
	_, err = w.svc.ImportAttendance(ctx, w.providerA, c.ID, []byte(bad), "学时.csv")
	ae, ok := apperr.As(err)
	if !ok || ae.Code != "attendance_invalid" {
		t.Fatalf("bad file: %v", err)
	}
	want := map[int]string{3: "unknown_worker", 4: "unknown_course", 5: "invalid_hours", 6: "hours_over_limit", 7: "negative"}
	got := map[int]string{}
	for _, f := range ae.Fields {
		got[f.Row] = f.Code
	}
	for row, code := range want {
		if got[row] != code {
			t.Errorf("row %d: %q, want %q (all %+v)", row, got[row], code, ae.Fields)
		}
	}
	var n int
	w.must(w.db.NewRaw("SELECT count(*) FROM attendance WHERE enrolment_id IN (?, ?)", ex.ID, ey.ID).Scan(ctx, &n))
	if n != 0 {
		t.Fatalf("%d rows stored from a bad file", n)
	}

	// A good file, by ID number and by enrolment number, with a BOM and an
	// x in lower case in the ID number.
	good := "\ufeff报名编号,身份证号,课程代码,学时\n" +
		"," + strings.ToLower(x.IDNumber) + ",LAW-01,8\n" +
		itoa(ey.ID) + ",,law-02,3.5\n"
	res, err := w.svc.ImportAttendance(ctx, w.providerA, c.ID, []byte(good), "学时.csv")
	w.must(err)
	if res.Changed != 2 {
		t.Errorf("good file: %+v", res)
	}
	py, _ := w.svc.Progress(ctx, y.P, ey.ID)
	for _, cp := range py.Progress.Courses {
		if cp.Code == "LAW-02" && cp.Done != 35 {
			t.Errorf("LAW-02 for y: %s", cp.Done)
		}
	}
	// Missing identity columns are a file error.
	if _, err := w.svc.ImportAttendance(ctx, w.providerA, c.ID, []byte("课程代码,学时\nLAW-01,1\n"), "a.csv"); !apperr.Is(err, "missing_columns") {
		t.Errorf("no identity column: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
