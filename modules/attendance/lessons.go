package attendance

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/enrolment"
)

// Lesson is one session of a course of a class (签到): the day it was held,
// its hours and the enrolments present. A worker's hours in a course are the
// sum of the lessons of that course they attended.
type Lesson struct {
	ID          int64         `json:"id"`
	ClassID     int64         `json:"class_id"`
	CourseID    int64         `json:"course_id"`
	CourseCode  string        `json:"course_code"`
	CourseTitle string        `json:"course_title"`
	HeldOn      time.Time     `json:"-"`
	Date        string        `json:"date"`
	Hours       catalog.Hours `json:"hours"`
	CarriedOver bool          `json:"carried_over"`
	Present     []int64       `json:"present"`
}

// Attended reports whether enrolment id was present.
func (l Lesson) Attended(id int64) bool {
	for _, p := range l.Present {
		if p == id {
			return true
		}
	}
	return false
}

// LessonInput is a lesson to record: date (YYYY-MM-DD), course code, hours
// and the enrolments present. Row is the lesson's first line in a sign-in
// sheet (0 for the API and the form).
type LessonInput struct {
	Row        int           `json:"-"`
	Date       string        `json:"date"`
	CourseCode string        `json:"course_code"`
	Hours      catalog.Hours `json:"hours"`
	Present    []int64       `json:"present"`
}

// Correction changes who attended a lesson; Reason is required and kept.
type Correction struct {
	Present []int64 `json:"present"`
	Reason  string  `json:"reason"`
}

// LessonResult is a recorded or corrected lesson and the completions it
// changed.
type LessonResult struct {
	Lesson
	Added     []int64 `json:"added,omitempty"`
	Removed   []int64 `json:"removed,omitempty"`
	Completed []int64 `json:"completed"`
	Reopened  []int64 `json:"reopened"`
}

// Change is one correction of a lesson's attendance, as an enrolment's
// history shows it.
type Change struct {
	LessonID    int64         `bun:"lesson_id" json:"lesson_id"`
	HeldOn      time.Time     `bun:"held_on" json:"-"`
	Date        string        `bun:"-" json:"date"`
	CourseID    int64         `bun:"course_id" json:"-"`
	CourseCode  string        `bun:"-" json:"course_code"`
	CourseTitle string        `bun:"-" json:"course_title"`
	Hours       catalog.Hours `bun:"hours" json:"hours"`
	Change      string        `bun:"change" json:"change"` // added or removed
	Reason      string        `bun:"reason" json:"reason"`
	ChangedBy   int64         `bun:"changed_by" json:"changed_by"`
	ChangedAt   time.Time     `bun:"changed_at" json:"changed_at"`
}

// Label is the change in Chinese.
func (c Change) Label() string {
	if c.Change == "added" {
		return "补记出勤"
	}
	return "取消出勤"
}

// Sources of a lesson.
const (
	SourceForm  = "form"
	SourceSheet = "sheet"
)

// MaxDayHours is the most a worker can attend in one day.
const MaxDayHours = catalog.Hours(80)

// lessonCheck is what checkLesson needs to know about the class: its dates,
// today, its enrolments (seats) and their plan versions, the course codes,
// and each enrolment's hours already attended that day.
type lessonCheck struct {
	starts, ends, today time.Time
	seats               map[int64]enrolment.Seat
	versions            map[int64]catalog.PlanVersion
	courses             map[string]catalog.Course
	dayHours            map[int64]catalog.Hours
	names               map[int64]string
}

// parseDate reads a lesson date.
func parseDate(s string) (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	return d, err == nil
}

// checkLesson checks in: a date within the class and not in the future, a
// course of the plan of every present enrolment, hours in half-hour steps
// above 0 and at most 8, present enrolments attending the class, at most
// 8 hours a day for each. Fields name the input's parts (date,
// course_code, hours, present); each error carries in.Row.
func checkLesson(in LessonInput, k lessonCheck) (catalog.Course, []apperr.FieldError) {
	var fields []apperr.FieldError
	bad := func(field, code, msg string) { fields = append(fields, rowErr(in.Row, field, code, msg)) }
	if d, ok := parseDate(in.Date); !ok {
		bad("date", "invalid_date", "日期应为 YYYY-MM-DD")
	} else if d.Before(k.starts) || d.After(k.ends) {
		bad("date", "outside_class", fmt.Sprintf("日期须在培训班的起止日期（%s 至 %s）之内",
			k.starts.Format(time.DateOnly), k.ends.Format(time.DateOnly)))
	} else if d.After(k.today) {
		bad("date", "future_date", "不能登记尚未上的课")
	}
	course, known := k.courses[strings.ToUpper(strings.TrimSpace(in.CourseCode))]
	if !known {
		bad("course_code", "unknown_course", "课程代码 "+in.CourseCode+" 不存在")
	}
	switch {
	case in.Hours <= 0:
		bad("hours", "invalid_hours", "学时须大于 0")
	case in.Hours > MaxDayHours:
		bad("hours", "hours_over_limit", "一次课最多 8 学时")
	case in.Hours%5 != 0:
		bad("hours", "invalid_hours", "学时以 0.5 为单位")
	}
	if len(in.Present) == 0 {
		bad("present", "required", "请至少勾选一名出勤学员")
	}
	seen := map[int64]bool{}
	inPlan := false
	for _, id := range in.Present {
		e, ok := k.seats[id]
		switch {
		case !ok || !e.Status.Attending():
			bad("present", "not_enrolled", fmt.Sprintf("报名编号 %d 不是本班在读学员", id))
			continue
		case seen[id]:
			bad("present", "duplicate", fmt.Sprintf("报名编号 %d 重复", id))
			continue
		}
		seen[id] = true
		if !known {
			continue
		}
		if !hasCourse(k.versions[e.PlanVersionID], course.ID) {
			bad("present", "unknown_course", fmt.Sprintf("%s 报名的培训计划不含课程 %s", k.name(id), course.Code))
			continue
		}
		inPlan = true
		if in.Hours > 0 && k.dayHours[id]+in.Hours > MaxDayHours {
			bad("present", "day_limit", fmt.Sprintf("%s 当天已有 %s 学时，再加 %s 学时超过每天 8 学时",
				k.name(id), k.dayHours[id], in.Hours))
		}
	}
	if known && !inPlan && len(fields) == 0 {
		bad("course_code", "unknown_course", "该课程不在本班培训计划中")
	}
	return course, fields
}

func (k lessonCheck) name(id int64) string {
	if n := k.names[id]; n != "" {
		return n
	}
	return fmt.Sprintf("报名编号 %d", id)
}

// diff returns who a correction adds and removes, sorted.
func diff(old, next []int64) (added, removed []int64) {
	was, is := map[int64]bool{}, map[int64]bool{}
	for _, id := range old {
		was[id] = true
	}
	for _, id := range next {
		is[id] = true
		if !was[id] {
			added = append(added, id)
		}
	}
	for _, id := range old {
		if !is[id] {
			removed = append(removed, id)
		}
	}
	sort.Slice(added, func(i, j int) bool { return added[i] < added[j] })
	sort.Slice(removed, func(i, j int) bool { return removed[i] < removed[j] })
	return added, removed
}

// dedupe returns ids without repeats, in order.
func dedupe(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// hasCourse reports whether course id is part of plan version v.
func hasCourse(v catalog.PlanVersion, id int64) bool {
	for _, c := range v.Courses {
		if c.CourseID == id {
			return true
		}
	}
	return false
}
