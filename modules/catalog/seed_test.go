package catalog

import (
	"testing"

	"tuoyu/modules/apperr"
)

func TestSeedHasDesignCatalogue(t *testing.T) {
	s, err := LoadSeed()
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]Category{}
	for _, c := range s.Courses {
		titles[c.Title] = c.Category
	}
	// DESIGN §9 names these titles; each must exist in the right category.
	want := map[string]Category{
		"托育服务政策法规": CategoryLaw, "未成年人保护法与反虐童": CategoryLaw, "保育师职业道德": CategoryEthics,
		"婴幼儿伤害预防与急救": CategorySafety, "消防与应急疏散": CategorySafety, "食品安全与营养喂养": CategorySafety,
		"生活照料": CategorySkills, "卫生保健与疾病预防": CategorySkills, "早期发展与回应性照护": CategorySkills,
		"托育机构保育指导大纲解读": CategorySkills,
	}
	for title, cat := range want {
		if got, ok := titles[title]; !ok || got != cat {
			t.Errorf("course %s: category %q, present %v; want %q", title, got, ok, cat)
		}
	}
	plans := map[string]SeedPlan{}
	for _, p := range s.Plans {
		plans[p.Code] = p
	}
	for _, code := range []string{"BYS-GQ", "BYS-ZG", "BYS-5", "BYS-4", "BYS-3", "YYY-5", "YYY-4", "YYY-3", "FZR-GW"} {
		p, ok := plans[code]
		if !ok {
			t.Errorf("plan %s missing", code)
			continue
		}
		if p.PassMark != 60 || p.MaxAttempts != 2 {
			t.Errorf("plan %s: pass mark %d, attempts %d; want 60 and 2", code, p.PassMark, p.MaxAttempts)
		}
		for _, cat := range Categories {
			if p.Minimums[cat] <= 0 {
				t.Errorf("plan %s has no minimum for %s", code, cat)
			}
		}
	}
	if got := plans["BYS-GQ"].MinTotalHours; got < H(120) {
		t.Errorf("BYS-GQ total %s, want at least 120", got)
	}
	if got := plans["BYS-ZG"].MinTotalHours; got < H(72) {
		t.Errorf("BYS-ZG total %s, want at least 72", got)
	}
	if p := plans["BYS-4"]; p.Purpose != PurposeUpgrade || p.Level == nil || *p.Level != 4 || p.Occupation != OccupationNursery {
		t.Errorf("BYS-4 = %+v, want upgrade level 4 of 保育师", p)
	}
	if p := plans["YYY-3"]; p.Occupation != OccupationInfantCare {
		t.Errorf("YYY-3 occupation %s, want 育婴员", p.Occupation)
	}
	if p := plans["FZR-GW"]; p.Occupation != OccupationManager || p.Level != nil {
		t.Errorf("FZR-GW = %+v, want manager training without level", p)
	}
}

func TestResolveRejectsBadVersions(t *testing.T) {
	courses := map[string]Course{
		"A": {ID: 1, Code: "A", Category: CategoryLaw, Title: "甲", TheoryHours: H(4)},
		"B": {ID: 2, Code: "B", Category: CategorySkills, Title: "乙", TheoryHours: H(2), PracticeHours: H(6)},
	}
	good := VersionInput{
		MinTotalHours: H(10), PassMark: 60, MaxAttempts: 2,
		Minimums: map[Category]Hours{CategoryLaw: H(4), CategorySkills: H(6)},
		Courses:  []VersionCourseInput{{Code: "A", Hours: H(4)}, {Code: "B", Hours: H(6)}},
	}
	v, err := good.Resolve(courses)
	if err != nil {
		t.Fatalf("good input refused: %v", err)
	}
	if len(v.Courses) != 2 || v.Courses[1].Max != H(8) || v.Minimum(CategorySkills) != H(6) {
		t.Errorf("resolved %+v", v)
	}

	tests := []struct {
		name   string
		change func(*VersionInput)
		field  string
		code   string
	}{
		{"unknown course", func(in *VersionInput) { in.Courses = append(in.Courses, VersionCourseInput{Code: "Z"}) }, "courses[2].code", "unknown_course"},
		{"duplicate course", func(in *VersionInput) { in.Courses = append(in.Courses, VersionCourseInput{Code: "A"}) }, "courses[2].code", "duplicate"},
		{"over course hours", func(in *VersionInput) { in.Courses[0].Hours = H(4) + 1 }, "courses[0].hours", "over_course_hours"},
		{"negative hours", func(in *VersionInput) { in.Courses[1].Hours = -1 }, "courses[1].hours", "negative"},
		{"unreachable minimum", func(in *VersionInput) { in.Minimums[CategoryLaw] = H(5) }, "minimums.law", "unreachable"},
		{"minimum of absent category", func(in *VersionInput) { in.Minimums[CategorySafety] = 1 }, "minimums.safety", "unreachable"},
		{"unknown category", func(in *VersionInput) { in.Minimums["music"] = 1 }, "minimums.music", "invalid"},
		{"unreachable total", func(in *VersionInput) { in.MinTotalHours = H(12) + 1 }, "min_total_hours", "unreachable"},
		{"pass mark", func(in *VersionInput) { in.PassMark = 0 }, "pass_mark", "invalid"},
		{"attempts", func(in *VersionInput) { in.MaxAttempts = 0 }, "max_attempts", "invalid"},
		{"no courses", func(in *VersionInput) { in.Courses = nil; in.Minimums = nil; in.MinTotalHours = 0 }, "courses", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			in.Courses = append([]VersionCourseInput(nil), good.Courses...)
			in.Minimums = map[Category]Hours{}
			for k, v := range good.Minimums {
				in.Minimums[k] = v
			}
			tt.change(&in)
			_, err := in.Resolve(courses)
			e, ok := apperr.As(err)
			if !ok || e.Code != "invalid_plan_version" {
				t.Fatalf("error = %v, want invalid_plan_version", err)
			}
			for _, f := range e.Fields {
				if f.Field == tt.field && f.Code == tt.code {
					return
				}
			}
			t.Errorf("fields %+v lack %s/%s", e.Fields, tt.field, tt.code)
		})
	}
}

func TestValidatePlan(t *testing.T) {
	five, nine := 5, 9
	tests := []struct {
		name       string
		occupation string
		purpose    Purpose
		level      *int
		ok         bool
	}{
		{"upgrade with level", OccupationNursery, PurposeUpgrade, &five, true},
		{"pre-service without level", OccupationNursery, PurposePreService, nil, true},
		{"upgrade without level", OccupationNursery, PurposeUpgrade, nil, false},
		{"level out of range", OccupationInfantCare, PurposeUpgrade, &nine, false},
		{"manager with level", OccupationManager, PurposeUpgrade, &five, false},
		{"unknown occupation", "4-99", PurposeInService, nil, false},
		{"unknown purpose", OccupationNursery, "hobby", nil, false},
	}
	for _, tt := range tests {
		err := ValidatePlan("X", "计划", tt.occupation, tt.purpose, tt.level)
		if (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
