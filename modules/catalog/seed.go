package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"

	"tuoyu/modules/apperr"
)

//go:embed seed.json
var seedJSON []byte

// Seed is the shipped catalogue: the courses and plans of DESIGN §9.
type Seed struct {
	Courses []SeedCourse `json:"courses"`
	Plans   []SeedPlan   `json:"plans"`
}

// SeedCourse is a course as written in the data file.
type SeedCourse struct {
	Code          string   `json:"code"`
	Category      Category `json:"category"`
	Title         string   `json:"title"`
	TheoryHours   Hours    `json:"theory_hours"`
	PracticeHours Hours    `json:"practice_hours"`
	Description   string   `json:"description"`
}

// SeedPlan is a plan with its first version as written in the data file.
type SeedPlan struct {
	Code       string  `json:"code"`
	Name       string  `json:"name"`
	Occupation string  `json:"occupation"`
	Purpose    Purpose `json:"purpose"`
	Level      *int    `json:"level"`
	VersionInput
}

// VersionInput is the editable part of a plan: what an admin changes and
// what a new plan version is made from.
type VersionInput struct {
	MinTotalHours Hours                `json:"min_total_hours"`
	PassMark      int                  `json:"pass_mark"`
	MaxAttempts   int                  `json:"max_attempts"`
	Minimums      Minimums             `json:"minimums"`
	Courses       []VersionCourseInput `json:"courses"`
}

// Minimums are the minimum hours per category of a plan version. In JSON
// they are a list of {"category", "min_hours"}: the shape a plan is read in
// (PlanVersion.Minimums), so what GET returns can be PUT back unchanged.
type Minimums map[Category]Hours

// UnmarshalJSON reads the list shape, strictly: an object (the map shape
// this API once took), unknown members or a category named twice are
// refused with an apperr.Invalid on field minimums. Errors: Invalid invalid_minimums.
func (m *Minimums) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*m = nil
		return nil
	}
	bad := func(msg string) error {
		return apperr.Invalid("invalid_minimums", "各类别最低学时填写有误",
			apperr.FieldError{Field: "minimums", Code: "invalid_minimums", Message: msg})
	}
	var list []CategoryMinimum
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		if e, ok := apperr.As(err); ok {
			return e
		}
		return bad(`最低学时应为列表：[{"category": "law", "min_hours": 8}, …]`)
	}
	out := make(Minimums, len(list))
	for _, cm := range list {
		if _, dup := out[cm.Category]; dup {
			return bad(fmt.Sprintf("类别 %s 重复", cm.Category))
		}
		out[cm.Category] = cm.Min
	}
	*m = out
	return nil
}

// VersionCourseInput names a course of a plan version by code with the hours
// the plan requires of it.
type VersionCourseInput struct {
	Code  string `json:"code"`
	Hours Hours  `json:"hours"`
}

// LoadSeed parses and checks the embedded catalogue. A broken data file is
// a bug in the build, so callers treat the error as internal. Errors: Invalid invalid_plan.
func LoadSeed() (Seed, error) {
	var s Seed
	if err := json.Unmarshal(seedJSON, &s); err != nil {
		return Seed{}, fmt.Errorf("parse catalogue seed: %w", err)
	}
	courses := map[string]Course{}
	for _, c := range s.Courses {
		if _, dup := courses[c.Code]; dup {
			return Seed{}, fmt.Errorf("catalogue seed: course %s twice", c.Code)
		}
		if !c.Category.Valid() || c.Title == "" || c.Description == "" || c.TheoryHours < 0 || c.PracticeHours < 0 ||
			c.TheoryHours+c.PracticeHours <= 0 {
			return Seed{}, fmt.Errorf("catalogue seed: course %s incomplete", c.Code)
		}
		courses[c.Code] = Course{Code: c.Code, Category: c.Category, Title: c.Title, TheoryHours: c.TheoryHours, PracticeHours: c.PracticeHours}
	}
	plans := map[string]bool{}
	for _, p := range s.Plans {
		if plans[p.Code] {
			return Seed{}, fmt.Errorf("catalogue seed: plan %s twice", p.Code)
		}
		plans[p.Code] = true
		if err := ValidatePlan(p.Code, p.Name, p.Occupation, p.Purpose, p.Level); err != nil {
			return Seed{}, fmt.Errorf("catalogue seed: plan %s: %w", p.Code, err)
		}
		if _, err := p.VersionInput.Resolve(courses); err != nil {
			return Seed{}, fmt.Errorf("catalogue seed: plan %s: %w", p.Code, err)
		}
	}
	return s, nil
}

// ValidatePlan checks a plan's fixed attributes. It returns an
// apperr.Invalid (invalid_plan) naming the fields at fault. Errors: Invalid invalid_plan.
func ValidatePlan(code, name, occupation string, purpose Purpose, level *int) error {
	var fields []apperr.FieldError
	if code == "" {
		fields = append(fields, apperr.FieldError{Field: "code", Code: "required", Message: "请填写计划代码"})
	}
	if name == "" {
		fields = append(fields, apperr.FieldError{Field: "name", Code: "required", Message: "请填写计划名称"})
	}
	switch occupation {
	case OccupationNursery, OccupationInfantCare, OccupationGuide, OccupationManager:
	default:
		fields = append(fields, apperr.FieldError{Field: "occupation", Code: "invalid", Message: "职业（工种）代码无效"})
	}
	if !purpose.Valid() {
		fields = append(fields, apperr.FieldError{Field: "purpose", Code: "invalid", Message: "培训类型只能是岗前、在岗或晋级"})
	}
	switch {
	case purpose == PurposeUpgrade && level == nil:
		fields = append(fields, apperr.FieldError{Field: "level", Code: "required", Message: "晋级培训必须指定等级"})
	case level != nil && (*level < 1 || *level > 5):
		fields = append(fields, apperr.FieldError{Field: "level", Code: "invalid", Message: "等级应为1到5"})
	case level != nil && occupation == OccupationManager:
		fields = append(fields, apperr.FieldError{Field: "level", Code: "invalid", Message: "托育机构负责人培训不设等级"})
	}
	if len(fields) > 0 {
		return apperr.Invalid("invalid_plan", "培训计划填写有误", fields...)
	}
	return nil
}

// Resolve checks in against the catalogue (courses by code) and returns the
// plan version it describes, without IDs. A course may require from 0 up to
// its own hours; a category minimum or the total cannot exceed what the
// plan's courses can give, or nobody could ever complete the plan. It
// returns an apperr.Invalid (invalid_plan_version) naming the fields at fault.
// Errors: Invalid invalid_plan_version.
func (in VersionInput) Resolve(courses map[string]Course) (PlanVersion, error) {
	var fields []apperr.FieldError
	bad := func(field, code, msg string) {
		fields = append(fields, apperr.FieldError{Field: field, Code: code, Message: msg})
	}
	if in.PassMark < 1 || in.PassMark > 100 {
		bad("pass_mark", "invalid", "合格分数线应在1到100之间")
	}
	if in.MaxAttempts < 1 || in.MaxAttempts > 5 {
		bad("max_attempts", "invalid", "考核次数应在1到5之间")
	}
	if in.MinTotalHours < 0 {
		bad("min_total_hours", "negative", "总学时不能为负数")
	}
	if len(in.Courses) == 0 {
		bad("courses", "required", "培训计划至少包含一门课程")
	}
	v := PlanVersion{MinTotalHours: in.MinTotalHours, PassMark: in.PassMark, MaxAttempts: in.MaxAttempts}
	maxBy := map[Category]Hours{}
	var maxAll Hours
	seen := map[string]bool{}
	for i, pc := range in.Courses {
		field := fmt.Sprintf("courses[%d].hours", i)
		c, ok := courses[pc.Code]
		switch {
		case !ok:
			bad(fmt.Sprintf("courses[%d].code", i), "unknown_course", fmt.Sprintf("课程 %s 不存在", pc.Code))
			continue
		case seen[pc.Code]:
			bad(fmt.Sprintf("courses[%d].code", i), "duplicate", fmt.Sprintf("课程 %s 重复", pc.Code))
			continue
		case pc.Hours < 0:
			bad(field, "negative", fmt.Sprintf("课程 %s 的学时不能为负数", c.Title))
		case pc.Hours > c.Hours():
			bad(field, "over_course_hours", fmt.Sprintf("课程 %s 要求的学时超过课程总学时 %s", c.Title, c.Hours()))
		}
		seen[pc.Code] = true
		maxBy[c.Category] += c.Hours()
		maxAll += c.Hours()
		v.Courses = append(v.Courses, PlanCourse{
			CourseID: c.ID, Code: c.Code, Title: c.Title, Category: c.Category, Required: pc.Hours, Max: c.Hours(),
		})
	}
	var unknown []string
	for cat := range in.Minimums {
		if !cat.Valid() {
			unknown = append(unknown, string(cat))
		}
	}
	sort.Strings(unknown) // map order is random; errors should not be
	for _, cat := range unknown {
		bad("minimums."+cat, "invalid", "未知的课程类别")
	}
	for _, cat := range Categories {
		min := in.Minimums[cat]
		field := "minimums." + string(cat)
		switch {
		case min < 0:
			bad(field, "negative", cat.Label()+"最低学时不能为负数")
		case min > maxBy[cat]:
			bad(field, "unreachable", fmt.Sprintf("%s最低学时 %s 超过计划内该类课程总学时 %s", cat.Label(), min, maxBy[cat]))
		}
		if min > 0 {
			v.Minimums = append(v.Minimums, CategoryMinimum{Category: cat, Min: min})
		}
	}
	if in.MinTotalHours > maxAll {
		bad("min_total_hours", "unreachable", fmt.Sprintf("总学时 %s 超过计划内课程总学时 %s", in.MinTotalHours, maxAll))
	}
	if len(fields) > 0 {
		return PlanVersion{}, apperr.Invalid("invalid_plan_version", "培训计划学时设置有误", fields...)
	}
	return v, nil
}
