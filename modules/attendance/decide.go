package attendance

import (
	"fmt"
	"sort"
	"strings"

	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/enrolment"
)

// decision is what a recording will do: the writes, how many entries
// equal what is stored, and the rows refused.
type decision struct {
	writes    []Write
	unchanged int
	fields    []apperr.FieldError
}

// decide checks entries against the class's enrolments (seats), their plan
// versions and the hours stored, without touching the database: every bad
// row gets a field error (not_enrolled, unknown_course, negative,
// hours_over_limit, duplicate, reason_required), sorted by row.
func decide(entries []Entry, seats map[int64]enrolment.Seat, versions map[int64]catalog.PlanVersion, stored map[Key]Stored) decision {
	var d decision
	seen := map[Key]int{}
	for _, en := range entries {
		e, ok := seats[en.EnrolmentID]
		if !ok || !e.Status.Attending() {
			d.fields = append(d.fields, rowErr(en.Row, "enrolment_id", "not_enrolled", "该学员不在本班（或处于候补、已退出状态）"))
			continue
		}
		if f, bad := checkHours(en, versions[e.PlanVersionID]); bad {
			d.fields = append(d.fields, f)
			continue
		}
		k := Key{en.EnrolmentID, en.CourseID}
		if first, dup := seen[k]; dup {
			d.fields = append(d.fields, rowErr(en.Row, "course", "duplicate", fmt.Sprintf("与第 %d 行重复（同一学员同一课程）", first)))
			continue
		}
		seen[k] = en.Row
		old, had := stored[k]
		if had && old.Hours == en.Hours {
			d.unchanged++
			continue
		}
		en.Reason = strings.TrimSpace(en.Reason)
		if had && en.Reason == "" {
			d.fields = append(d.fields, rowErr(en.Row, "reason", "reason_required",
				fmt.Sprintf("已登记 %s 学时，更正为 %s 须填写更正原因", old.Hours, en.Hours)))
			continue
		}
		w := Write{Entry: en}
		if had {
			h := old.Hours
			w.Old = &h
		}
		d.writes = append(d.writes, w)
	}
	sortRows(d.fields)
	return d
}

// checkHours checks that en's course belongs to plan version v and its
// hours lie within the course's.
func checkHours(en Entry, v catalog.PlanVersion) (apperr.FieldError, bool) {
	var course *catalog.PlanCourse
	for i, pc := range v.Courses {
		if pc.CourseID == en.CourseID {
			course = &v.Courses[i]
		}
	}
	switch {
	case course == nil:
		return rowErr(en.Row, "course", "unknown_course", "该课程不在本班培训计划中"), true
	case en.Hours < 0:
		return rowErr(en.Row, "hours", "negative", "学时不能为负数"), true
	case en.Hours > course.Max:
		return rowErr(en.Row, "hours", "hours_over_limit",
			fmt.Sprintf("学时 %s 超过课程《%s》的总学时 %s", en.Hours, course.Title, course.Max)), true
	}
	return apperr.FieldError{}, false
}

// completions decides, for the enrolments ids, which become complete and
// which are no longer, from their stored hours against their own plan
// versions.
func completions(ids []int64, seats map[int64]enrolment.Seat, versions map[int64]catalog.PlanVersion, stored map[Key]Stored) (completed, reopened []int64) {
	by := byEnrolment(stored)
	for _, id := range ids {
		e := seats[id]
		done := Complete(versions[e.PlanVersionID], by[id]).Complete
		switch {
		case done && e.Status == enrolment.StatusEnrolled:
			completed = append(completed, id)
		case !done && e.Status == enrolment.StatusCompleted:
			reopened = append(reopened, id)
		}
	}
	return completed, reopened
}

// byEnrolment regroups stored hours by enrolment, then course.
func byEnrolment(stored map[Key]Stored) map[int64]map[int64]catalog.Hours {
	by := map[int64]map[int64]catalog.Hours{}
	for k, h := range stored {
		if by[k.Enrolment] == nil {
			by[k.Enrolment] = map[int64]catalog.Hours{}
		}
		by[k.Enrolment][k.Course] = h.Hours
	}
	return by
}

func sortRows(fields []apperr.FieldError) {
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Row < fields[j].Row })
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
