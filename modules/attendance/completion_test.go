package attendance

import (
	"testing"

	"tuoyu/modules/catalog"
)

// A small plan: law course 1 requires 4 of 4 hours; skills courses 2 and 3
// require 6 of 8 and 0 of 6 (elective); the skills minimum is 10, so two
// hours must come from extra or elective hours.
func testVersion() catalog.PlanVersion {
	return catalog.PlanVersion{
		ID: 1, MinTotalHours: catalog.H(14),
		Courses: []catalog.PlanCourse{
			{CourseID: 1, Code: "L", Category: catalog.CategoryLaw, Required: catalog.H(4), Max: catalog.H(4)},
			{CourseID: 2, Code: "S", Category: catalog.CategorySkills, Required: catalog.H(6), Max: catalog.H(8)},
			{CourseID: 3, Code: "E", Category: catalog.CategorySkills, Required: 0, Max: catalog.H(6)},
		},
		Minimums: []catalog.CategoryMinimum{
			{Category: catalog.CategoryLaw, Min: catalog.H(4)},
			{Category: catalog.CategorySkills, Min: catalog.H(10)},
		},
	}
}

func TestCompleteFlipsAtTheLastTenth(t *testing.T) {
	v := testVersion()
	tests := []struct {
		name  string
		hours map[int64]catalog.Hours
		want  bool
	}{
		{"nothing", nil, false},
		{"courses met, skills minimum short", map[int64]catalog.Hours{1: catalog.H(4), 2: catalog.H(6)}, false},
		{"one tenth short in the elective", map[int64]catalog.Hours{1: catalog.H(4), 2: catalog.H(6), 3: catalog.H(4) - 1}, false},
		{"last tenth recorded", map[int64]catalog.Hours{1: catalog.H(4), 2: catalog.H(6), 3: catalog.H(4)}, true},
		{"minimum from extra hours in a required course", map[int64]catalog.Hours{1: catalog.H(4), 2: catalog.H(8), 3: catalog.H(2)}, true},
		{"corrected away: law one tenth short", map[int64]catalog.Hours{1: catalog.H(4) - 1, 2: catalog.H(8), 3: catalog.H(6)}, false},
		{"required course short though category is full", map[int64]catalog.Hours{1: catalog.H(4), 2: catalog.H(5), 3: catalog.H(6)}, false},
		{"hours above a course's maximum do not count", map[int64]catalog.Hours{1: catalog.H(4), 2: catalog.H(6), 3: catalog.H(2), 4: catalog.H(100)}, false},
		{"capped course hours", map[int64]catalog.Hours{1: catalog.H(40), 2: catalog.H(6), 3: catalog.H(3) + 9}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Complete(v, tt.hours)
			if p.Complete != tt.want {
				t.Errorf("Complete = %v, want %v (progress %+v)", p.Complete, tt.want, p)
			}
		})
	}
}

func TestCompleteFlipsBackAndForth(t *testing.T) {
	v := testVersion()
	hours := map[int64]catalog.Hours{1: catalog.H(4), 2: catalog.H(8)}
	if Complete(v, hours).Complete {
		t.Fatal("complete with 12 of 14 hours")
	}
	// Record the elective a tenth at a time: completion flips exactly at
	// 2.0 hours, never before.
	for tenth := catalog.Hours(1); tenth <= catalog.H(2); tenth++ {
		hours[3] = tenth
		got := Complete(v, hours).Complete
		if want := tenth == catalog.H(2); got != want {
			t.Fatalf("elective %s h: complete %v, want %v", tenth, got, want)
		}
	}
	hours[3] = catalog.H(2) - 1 // a correction takes one tenth away
	if Complete(v, hours).Complete {
		t.Error("still complete after the correction")
	}
}

func TestCompleteIsPlanVersionAware(t *testing.T) {
	v1 := testVersion()
	v2 := testVersion()
	v2.ID = 2
	v2.Courses[0].Required = catalog.H(4)
	v2.Minimums[1].Min = catalog.H(12)
	v2.MinTotalHours = catalog.H(16)
	hours := map[int64]catalog.Hours{1: catalog.H(4), 2: catalog.H(6), 3: catalog.H(4)}
	if !Complete(v1, hours).Complete {
		t.Error("hours complete v1 but Complete says no")
	}
	if Complete(v2, hours).Complete {
		t.Error("the same hours must not complete the stricter v2")
	}
}

func TestCompleteReportsEachCourseAndCategory(t *testing.T) {
	p := Complete(testVersion(), map[int64]catalog.Hours{1: catalog.H(2), 2: catalog.H(7), 3: 5})
	if len(p.Courses) != 3 || len(p.Categories) != 2 {
		t.Fatalf("progress has %d courses, %d categories; want 3 and 2", len(p.Courses), len(p.Categories))
	}
	law := p.Categories[0]
	if law.Category != catalog.CategoryLaw || law.Done != catalog.H(2) || law.Minimum != catalog.H(4) || law.Met || law.Percent() != 50 {
		t.Errorf("law = %+v", law)
	}
	skills := p.Categories[1]
	if skills.Done != catalog.H(7)+5 || skills.Minimum != catalog.H(10) || skills.Met {
		t.Errorf("skills = %+v", skills)
	}
	if c := p.Courses[1]; !c.Met || c.Percent() != 100 {
		t.Errorf("course S = %+v, want met at 100%%", c)
	}
	if c := p.Courses[2]; !c.Met || c.Done != 5 {
		t.Errorf("elective = %+v, want met with 0.5 h", c)
	}
	if p.Total != catalog.H(9)+5 || p.MinTotal != catalog.H(14) {
		t.Errorf("total %s of %s", p.Total, p.MinTotal)
	}
}

func TestCompleteWithSeededPlans(t *testing.T) {
	s, err := catalog.LoadSeed()
	if err != nil {
		t.Fatal(err)
	}
	courses := map[string]catalog.Course{}
	for i, c := range s.Courses {
		courses[c.Code] = catalog.Course{ID: int64(i + 1), Code: c.Code, Category: c.Category, Title: c.Title,
			TheoryHours: c.TheoryHours, PracticeHours: c.PracticeHours}
	}
	for _, sp := range s.Plans {
		v, err := sp.VersionInput.Resolve(courses)
		if err != nil {
			t.Fatalf("%s: %v", sp.Code, err)
		}
		// Full hours in every course complete every shipped plan.
		full := map[int64]catalog.Hours{}
		for _, c := range v.Courses {
			full[c.CourseID] = c.Max
		}
		if !Complete(v, full).Complete {
			t.Errorf("%s: all course hours do not complete it", sp.Code)
		}
		exact := map[int64]catalog.Hours{}
		for _, c := range v.Courses {
			exact[c.CourseID] = c.Required
		}
		if Complete(v, exact).Complete != (sumRequired(v) >= v.MinTotalHours && minimumsMet(v)) {
			t.Errorf("%s: exactly required hours disagree with the minimums", sp.Code)
		}
	}
}

func sumRequired(v catalog.PlanVersion) catalog.Hours {
	var s catalog.Hours
	for _, c := range v.Courses {
		s += c.Required
	}
	return s
}

func minimumsMet(v catalog.PlanVersion) bool {
	by := map[catalog.Category]catalog.Hours{}
	for _, c := range v.Courses {
		by[c.Category] += c.Required
	}
	for _, m := range v.Minimums {
		if by[m.Category] < m.Min {
			return false
		}
	}
	return true
}
