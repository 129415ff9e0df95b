// Package attendance keeps the lessons of each class (签到: a date, a
// course, hours and who was present, from a form or a sign-in sheet, every
// correction kept with who and why) and decides completion: a worker's
// hours in a course are the sum of the lessons they attended, and an
// enrolment is complete when every course's hours, every category minimum
// and the total minimum of its plan version are met. Completion is
// recomputed in the same transaction as every lesson and correction, and
// written to the enrolment's status through the enrolment module's store.
// Progress, the same decision shown course by course, is what the class,
// roster and "my training" pages show.
package attendance

import (
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
)

func rowErr(row int, field, code, msg string) apperr.FieldError {
	return apperr.FieldError{Row: row, Field: field, Code: code, Message: msg}
}

// Progress is how far one enrolment is through its plan version: every
// course and category with hours done against hours required, and whether
// the plan is complete.
type Progress struct {
	Courses    []CourseProgress   `json:"courses"`
	Categories []CategoryProgress `json:"categories"`
	Total      catalog.Hours      `json:"total_hours"`
	MinTotal   catalog.Hours      `json:"min_total_hours"`
	Complete   bool               `json:"complete"`
}

// CourseProgress is the hours done in one course of the plan.
type CourseProgress struct {
	CourseID int64            `json:"course_id"`
	Code     string           `json:"code"`
	Title    string           `json:"title"`
	Category catalog.Category `json:"category"`
	Done     catalog.Hours    `json:"done_hours"` // every hour attended, above the course's hours too
	Over     catalog.Hours    `json:"over_hours"` // attended beyond the course's hours
	Required catalog.Hours    `json:"required_hours"`
	Max      catalog.Hours    `json:"max_hours"`
	Met      bool             `json:"met"`
}

// CategoryProgress is the hours done in one category of the plan.
type CategoryProgress struct {
	Category catalog.Category `json:"category"`
	Label    string           `json:"label"`
	Done     catalog.Hours    `json:"done_hours"`
	Minimum  catalog.Hours    `json:"min_hours"`
	Met      bool             `json:"met"`
}

// Percent is the share of the requirement done, 0–100, for progress bars.
func (c CourseProgress) Percent() int { return percent(c.Done, c.Required) }

// Percent is the share of the category minimum done, 0–100.
func (c CategoryProgress) Percent() int { return percent(c.Done, c.Minimum) }

func percent(done, want catalog.Hours) int {
	if want <= 0 {
		return 100
	}
	if done >= want {
		return 100
	}
	return int(done * 100 / want)
}

// Complete decides whether the hours recorded for an enrolment (by course
// ID) complete plan version v: every course's required hours, every
// category minimum and the total minimum are met. Hours are counted only for
// the plan's own courses. A course's hours are shown in full (Done, with
// Over above the course's hours: over-attendance is visible, not lost), but
// count toward category and total minimums only up to the course's hours,
// so extra lessons of one course do not stand in for another. Categories are listed in policy order,
// including those without a minimum (their hours are still shown).
func Complete(v catalog.PlanVersion, hours map[int64]catalog.Hours) Progress {
	p := Progress{MinTotal: v.MinTotalHours, Complete: true}
	byCat := map[catalog.Category]catalog.Hours{}
	present := map[catalog.Category]bool{}
	for _, c := range v.Courses {
		attended := max(hours[c.CourseID], 0)
		done, over := attended, catalog.Hours(0)
		if c.Max > 0 && done > c.Max {
			done, over = c.Max, attended-c.Max
		}
		met := done >= c.Required
		p.Courses = append(p.Courses, CourseProgress{
			CourseID: c.CourseID, Code: c.Code, Title: c.Title, Category: c.Category,
			Done: attended, Over: over, Required: c.Required, Max: c.Max, Met: met,
		})
		p.Complete = p.Complete && met
		byCat[c.Category] += done
		present[c.Category] = true
		p.Total += done
	}
	for _, cat := range catalog.Categories {
		min := v.Minimum(cat)
		if !present[cat] && min == 0 {
			continue
		}
		met := byCat[cat] >= min
		p.Categories = append(p.Categories, CategoryProgress{
			Category: cat, Label: cat.Label(), Done: byCat[cat], Minimum: min, Met: met,
		})
		p.Complete = p.Complete && met
	}
	if p.Total < v.MinTotalHours {
		p.Complete = false
	}
	return p
}
