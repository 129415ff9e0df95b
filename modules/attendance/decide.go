package attendance

import (
	"sort"

	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/enrolment"
)

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
