package catalog

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// PlanCodes returns the code of every plan. Errors: only internal ones (database).
func (s Store) PlanCodes(ctx context.Context) ([]string, error) {
	var codes []string
	if err := s.db.NewSelect().Table("plans").Column("code").Scan(ctx, &codes); err != nil {
		return nil, fmt.Errorf("plan codes: %w", err)
	}
	return codes, nil
}

// PlansByID returns the plans with the given IDs, in one query.
// Errors: only internal ones (database).
func (s Store) PlansByID(ctx context.Context, ids []int64) ([]Plan, error) {
	var ps []Plan
	if err := s.db.NewSelect().Model(&ps).Where("pl.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("plans by id: %w", err)
	}
	return ps, nil
}

// CurrentVersionID returns the current version of plan planID. Errors:
// NotFound plan_not_found.
func (s Store) CurrentVersionID(ctx context.Context, planID int64) (int64, error) {
	var versionID int64
	err := s.db.NewSelect().Table("plans").Column("current_version_id").Where("id = ?", planID).Scan(ctx, &versionID)
	if isNoRows(err) {
		return 0, errPlanNotFound()
	}
	if err != nil {
		return 0, fmt.Errorf("current version of plan %d: %w", planID, err)
	}
	return versionID, nil
}

// MarkVersionInUse marks version id in use. Only the first enrolment
// writes: once in_use is true the WHERE does not match and takes no row
// lock, so concurrent enrolments do not queue here. Errors: only internal ones (database).
func (s Store) MarkVersionInUse(ctx context.Context, id int64) error {
	_, err := s.db.NewUpdate().Table("plan_versions").Set("in_use = true").Where("id = ? AND NOT in_use", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark plan version %d in use: %w", id, err)
	}
	return nil
}

// LockPlan reads plan id for update. Errors: NotFound plan_not_found.
func (s Store) LockPlan(ctx context.Context, id int64) (Plan, error) {
	var p Plan
	err := s.db.NewSelect().Model(&p).Where("pl.id = ?", id).For("UPDATE").Scan(ctx)
	if isNoRows(err) {
		return p, errPlanNotFound()
	}
	if err != nil {
		return p, fmt.Errorf("lock plan %d: %w", id, err)
	}
	return p, nil
}

// LockVersion reads plan version id (without its requirements) for update.
// Errors: only internal ones (database).
func (s Store) LockVersion(ctx context.Context, id int64) (PlanVersion, error) {
	var v PlanVersion
	if err := s.db.NewSelect().Model(&v).Where("pv.id = ?", id).For("UPDATE").Scan(ctx); err != nil {
		return v, fmt.Errorf("lock plan version %d: %w", id, err)
	}
	return v, nil
}

// SetCurrentVersion makes version versionID the current one of plan planID.
// Errors: only internal ones (database).
func (s Store) SetCurrentVersion(ctx context.Context, planID, versionID int64) error {
	_, err := s.db.NewUpdate().Table("plans").Set("current_version_id = ?", versionID).Where("id = ?", planID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("make version %d current: %w", versionID, err)
	}
	return nil
}

// InsertPlanIfAbsent stores p unless its code exists; it reports whether it did.
// Errors: only internal ones (database).
func (s Store) InsertPlanIfAbsent(ctx context.Context, p *Plan) (bool, error) {
	res, err := s.db.NewInsert().Model(p).ExcludeColumn("id", "current_version_id").
		On("CONFLICT (code) DO NOTHING").Returning("id").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("insert plan %s: %w", p.Code, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// InsertCourseIfAbsent stores c unless its code exists. Errors: only internal ones (database).
func (s Store) InsertCourseIfAbsent(ctx context.Context, c *Course) error {
	_, err := s.db.NewInsert().Model(c).ExcludeColumn("id").On("CONFLICT (code) DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("insert course %s: %w", c.Code, err)
	}
	return nil
}

// LockCourse reads course id for update. Errors: NotFound course_not_found.
func (s Store) LockCourse(ctx context.Context, id int64) (Course, error) {
	var c Course
	err := s.db.NewSelect().Model(&c).Where("co.id = ?", id).For("UPDATE").Scan(ctx)
	if isNoRows(err) {
		return c, errCourseNotFound()
	}
	if err != nil {
		return c, fmt.Errorf("lock course %d: %w", id, err)
	}
	return c, nil
}

// HoursRequired returns the most hours any plan version requires of course id.
// Errors: only internal ones (database).
func (s Store) HoursRequired(ctx context.Context, id int64) (Hours, error) {
	var need Hours
	err := s.db.NewSelect().Table("plan_version_courses").ColumnExpr("coalesce(max(required_hours), 0)").
		Where("course_id = ?", id).Scan(ctx, &need)
	if err != nil {
		return 0, fmt.Errorf("hours required of course %d: %w", id, err)
	}
	return need, nil
}

// UpdateCourse writes c's title, hours and description. Errors: only internal ones (database).
func (s Store) UpdateCourse(ctx context.Context, c *Course) error {
	_, err := s.db.NewUpdate().Model(c).Column("title", "theory_hours", "practice_hours", "description").
		Set("updated_at = now()").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update course %d: %w", c.ID, err)
	}
	return nil
}

// SetAssessment changes plan code's assessment mode. Errors: NotFound
// (plan_not_found).
func (s Store) SetAssessment(ctx context.Context, code, mode string) error {
	res, err := s.db.NewUpdate().Table("plans").Set("assessment = ?", mode).Where("code = ?", code).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set assessment of plan %s: %w", code, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errPlanNotFound()
	}
	return nil
}
