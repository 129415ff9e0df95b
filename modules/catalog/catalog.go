// Package catalog keeps the training catalogue: courses in the four
// categories of the provincial policy (法律法规, 职业道德, 安全教育, 职业技能)
// and plans (培训计划) that bundle courses with required hours and minimum
// hours per category for an occupation, purpose and level.
//
// Plans are versioned. Enrolments point at the plan version they enrolled
// under; editing a plan whose current version is in use creates a new
// version, so enrolled workers keep the requirements they signed up for.
// The shipped catalogue lives in seed.json; hours are plan parameters that
// admins edit, because the national outlines' exact hours are not confirmed.
package catalog

import (
	"time"

	"github.com/uptrace/bun"
)

// Category is one of the four training categories of the policy.
type Category string

// The four categories, in the order the policy names them (三(四)).
const (
	CategoryLaw    Category = "law"    // 法律法规
	CategoryEthics Category = "ethics" // 职业道德
	CategorySafety Category = "safety" // 安全教育
	CategorySkills Category = "skills" // 职业技能
)

// Categories lists the categories in display order.
var Categories = []Category{CategoryLaw, CategoryEthics, CategorySafety, CategorySkills}

// Valid reports whether c is one of the four categories.
func (c Category) Valid() bool {
	switch c {
	case CategoryLaw, CategoryEthics, CategorySafety, CategorySkills:
		return true
	}
	return false
}

// Label is the Chinese name of c.
func (c Category) Label() string {
	switch c {
	case CategoryLaw:
		return "法律法规"
	case CategoryEthics:
		return "职业道德"
	case CategorySafety:
		return "安全教育"
	case CategorySkills:
		return "职业技能"
	}
	return string(c)
}

// Purpose says why a plan is taken.
type Purpose string

// Plan purposes (DESIGN §1).
const (
	PurposePreService Purpose = "pre_service" // 岗前
	PurposeInService  Purpose = "in_service"  // 在岗
	PurposeUpgrade    Purpose = "upgrade"     // 晋级, always with a level
)

// Valid reports whether p is a known purpose.
func (p Purpose) Valid() bool {
	return p == PurposePreService || p == PurposeInService || p == PurposeUpgrade
}

// Label is the Chinese name of p.
func (p Purpose) Label() string {
	switch p {
	case PurposePreService:
		return "岗前培训"
	case PurposeInService:
		return "在岗培训"
	case PurposeUpgrade:
		return "晋级培训"
	}
	return string(p)
}

// Occupation codes of the national classification, plus the childcare
// manager, which has no national code and is trained here but never
// skill-assessed.
const (
	OccupationNursery    = "4-10-01-03" // 保育师
	OccupationInfantCare = "4-10-01-02" // 育婴员
	OccupationGuide      = "4-10-01-01" // 婴幼儿发展引导员
	OccupationManager    = "manager"    // 托育机构负责人 (training only)
)

// OccupationLabel is the Chinese name of an occupation code.
func OccupationLabel(code string) string {
	switch code {
	case OccupationNursery:
		return "保育师"
	case OccupationInfantCare:
		return "育婴员"
	case OccupationGuide:
		return "婴幼儿发展引导员"
	case OccupationManager:
		return "托育机构负责人"
	}
	return code
}

// LevelLabel is the Chinese name of a skill level 1–5.
func LevelLabel(level int) string {
	switch level {
	case 5:
		return "五级/初级工"
	case 4:
		return "四级/中级工"
	case 3:
		return "三级/高级工"
	case 2:
		return "二级/技师"
	case 1:
		return "一级/高级技师"
	}
	return ""
}

// Course is one unit of training in one category.
type Course struct {
	bun.BaseModel `bun:"table:courses,alias:co"`

	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	Code          string    `bun:"code,notnull" json:"code"`
	Category      Category  `bun:"category,notnull" json:"category"`
	Title         string    `bun:"title,notnull" json:"title"`
	TheoryHours   Hours     `bun:"theory_hours,notnull,type:numeric(5,1)" json:"theory_hours"`
	PracticeHours Hours     `bun:"practice_hours,notnull,type:numeric(5,1)" json:"practice_hours"`
	Description   string    `bun:"description,notnull" json:"description"`
	CreatedAt     time.Time `bun:"created_at,nullzero,notnull,default:now()" json:"-"`
	UpdatedAt     time.Time `bun:"updated_at,nullzero,notnull,default:now()" json:"-"`
}

// Hours is the most attendance a worker can have in c: theory plus practice.
func (c Course) Hours() Hours { return c.TheoryHours + c.PracticeHours }

// Plan is a named training plan; its requirements live in versions.
type Plan struct {
	bun.BaseModel `bun:"table:plans,alias:pl"`

	ID               int64     `bun:"id,pk,autoincrement" json:"id"`
	Code             string    `bun:"code,notnull" json:"code"`
	Name             string    `bun:"name,notnull" json:"name"`
	Occupation       string    `bun:"occupation,notnull" json:"occupation"`
	Purpose          Purpose   `bun:"purpose,notnull" json:"purpose"`
	Level            *int      `bun:"level" json:"level"`
	Assessment       string    `bun:"assessment,nullzero,notnull,default:'theory_practical'" json:"assessment"`
	CurrentVersionID int64     `bun:"current_version_id,nullzero" json:"current_version_id"`
	CreatedAt        time.Time `bun:"created_at,nullzero,notnull,default:now()" json:"-"`
}

// PlanVersion is one version of a plan's requirements: the courses with the
// hours each requires, the minimum hours per category and in total, and the
// assessment settings.
type PlanVersion struct {
	bun.BaseModel `bun:"table:plan_versions,alias:pv"`

	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	PlanID        int64     `bun:"plan_id,notnull" json:"plan_id"`
	Version       int       `bun:"version,notnull" json:"version"`
	MinTotalHours Hours     `bun:"min_total_hours,notnull,type:numeric(5,1)" json:"min_total_hours"`
	PassMark      int       `bun:"pass_mark,notnull" json:"pass_mark"`
	MaxAttempts   int       `bun:"max_attempts,notnull" json:"max_attempts"`
	InUse         bool      `bun:"in_use,notnull" json:"in_use"`
	CreatedAt     time.Time `bun:"created_at,nullzero,notnull,default:now()" json:"created_at"`

	Courses  []PlanCourse      `bun:"-" json:"courses"`
	Minimums []CategoryMinimum `bun:"-" json:"minimums"`
}

// PlanCourse is a course in a plan version with the hours the plan requires
// of it. Required may be zero (an elective whose hours still count towards
// its category) and never exceeds the course's own hours.
type PlanCourse struct {
	CourseID int64    `json:"course_id"`
	Code     string   `json:"code"`
	Title    string   `json:"title"`
	Category Category `json:"category"`
	Required Hours    `json:"required_hours"`
	Max      Hours    `json:"max_hours"` // the course's hours, the most that can count
}

// CategoryMinimum is the least number of hours a plan version asks for in
// one category, counted over all the plan's courses of that category.
type CategoryMinimum struct {
	Category Category `json:"category"`
	Min      Hours    `json:"min_hours"`
}

// Minimum returns the minimum hours of category c in v (0 when none is set).
func (v PlanVersion) Minimum(c Category) Hours {
	for _, m := range v.Minimums {
		if m.Category == c {
			return m.Min
		}
	}
	return 0
}
