package catalog

import "github.com/uptrace/bun"

// VersionNumbers selects each plan version's id and number (version): a
// sub-query other modules' stores join, so their lists stay one statement
// without naming this module's tables.
func VersionNumbers(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("plan_versions").Column("id", "version")
}

// PlanNames selects each plan's id, code and name: a sub-query other
// modules' stores join for display.
func PlanNames(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("plans").Column("id", "code", "name")
}

// PlanAssessments selects each plan's id, code and assessment mode: a
// sub-query for the stores that list what an assessment depends on.
func PlanAssessments(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("plans").Column("id", "code", "assessment")
}

// VersionRules selects each plan version's id, pass mark and attempts
// allowed: a sub-query for the stores that list assessed enrolments.
func VersionRules(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("plan_versions").Column("id", "pass_mark", "max_attempts")
}

// VersionCourses selects each plan version's courses (plan_version_id,
// course_id, required_hours, position): a sub-query for the scale seed's
// lessons.
func VersionCourses(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("plan_version_courses").
		Column("plan_version_id", "course_id", "required_hours", "position")
}

// PlanFacts selects what a certificate copies of each plan (id, code, name,
// occupation, level, purpose, assessment): a sub-query for the scale
// seed's certificates.
func PlanFacts(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("plans").Column("id", "code", "name", "occupation", "level", "purpose", "assessment")
}

// VersionPlans selects each plan version's id and plan_id.
func VersionPlans(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("plan_versions").Column("id", "plan_id")
}
