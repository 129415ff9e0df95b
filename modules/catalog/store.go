package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
)

// Store reads and writes the catalogue tables on a database or inside a
// transaction.
type Store struct{ db bun.IDB }

// NewStore returns a store working on db.
func NewStore(db bun.IDB) Store { return Store{db: db} }

func errCourseNotFound() *apperr.Error { return apperr.NotFound("course_not_found", "课程不存在") }
func errPlanNotFound() *apperr.Error {
	return apperr.NotFound("plan_not_found", "培训计划不存在")
}

// Courses returns every course, by code. Errors: only internal ones (database).
func (s Store) Courses(ctx context.Context) ([]Course, error) {
	var cs []Course
	if err := s.db.NewSelect().Model(&cs).OrderExpr("co.code").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list courses: %w", err)
	}
	return cs, nil
}

// CourseByID returns one course; apperr.NotFound when absent. Errors: NotFound course_not_found.
func (s Store) CourseByID(ctx context.Context, id int64) (Course, error) {
	var c Course
	err := s.db.NewSelect().Model(&c).Where("co.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Course{}, errCourseNotFound()
	}
	if err != nil {
		return Course{}, fmt.Errorf("course %d: %w", id, err)
	}
	return c, nil
}

// Plans returns every plan, by code. Errors: only internal ones (database).
func (s Store) Plans(ctx context.Context) ([]Plan, error) {
	var ps []Plan
	if err := s.db.NewSelect().Model(&ps).OrderExpr("pl.code").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	return ps, nil
}

// PlanByCode returns the plan with code; apperr.NotFound when absent.
// Errors: NotFound plan_not_found.
func (s Store) PlanByCode(ctx context.Context, code string) (Plan, error) {
	return s.plan(ctx, "pl.code = ?", code)
}

// PlanByID returns the plan with id; apperr.NotFound when absent. Errors: NotFound plan_not_found.
func (s Store) PlanByID(ctx context.Context, id int64) (Plan, error) {
	return s.plan(ctx, "pl.id = ?", id)
}

func (s Store) plan(ctx context.Context, where string, arg any) (Plan, error) {
	var p Plan
	err := s.db.NewSelect().Model(&p).Where(where, arg).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, errPlanNotFound()
	}
	if err != nil {
		return Plan{}, fmt.Errorf("plan %v: %w", arg, err)
	}
	return p, nil
}

// Versions returns the plan versions with the given IDs, each with its
// courses and minimums, in three queries whatever their number.
// Errors: only internal ones (database).
func (s Store) Versions(ctx context.Context, ids []int64) (map[int64]PlanVersion, error) {
	out := map[int64]PlanVersion{}
	if len(ids) == 0 {
		return out, nil
	}
	var vs []PlanVersion
	if err := s.db.NewSelect().Model(&vs).Where("pv.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("plan versions: %w", err)
	}
	for _, v := range vs {
		out[v.ID] = v
	}
	var courses []struct {
		VersionID int64    `bun:"plan_version_id"`
		CourseID  int64    `bun:"course_id"`
		Code      string   `bun:"code"`
		Title     string   `bun:"title"`
		Category  Category `bun:"category"`
		Required  Hours    `bun:"required_hours"`
		Max       Hours    `bun:"max_hours"`
	}
	err := s.db.NewSelect().TableExpr("plan_version_courses AS pvc").
		Join("JOIN courses AS co ON co.id = pvc.course_id").
		ColumnExpr("pvc.plan_version_id, pvc.course_id, co.code, co.title, co.category, pvc.required_hours").
		ColumnExpr("co.theory_hours + co.practice_hours AS max_hours").
		Where("pvc.plan_version_id IN (?)", bun.List(ids)).
		OrderExpr("pvc.plan_version_id, pvc.position").Scan(ctx, &courses)
	if err != nil {
		return nil, fmt.Errorf("plan version courses: %w", err)
	}
	for _, c := range courses {
		v := out[c.VersionID]
		v.Courses = append(v.Courses, PlanCourse{CourseID: c.CourseID, Code: c.Code, Title: c.Title, Category: c.Category, Required: c.Required, Max: c.Max})
		out[c.VersionID] = v
	}
	var mins []struct {
		VersionID int64    `bun:"plan_version_id"`
		Category  Category `bun:"category"`
		Min       Hours    `bun:"min_hours"`
	}
	err = s.db.NewSelect().Table("plan_version_minimums").
		Column("plan_version_id", "category", "min_hours").
		Where("plan_version_id IN (?)", bun.List(ids)).Scan(ctx, &mins)
	if err != nil {
		return nil, fmt.Errorf("plan version minimums: %w", err)
	}
	for _, m := range mins {
		v := out[m.VersionID]
		v.Minimums = append(v.Minimums, CategoryMinimum{Category: m.Category, Min: m.Min})
		out[m.VersionID] = v
	}
	for id, v := range out {
		v.Minimums = sortedMinimums(v.Minimums)
		out[id] = v
	}
	return out, nil
}

// sortedMinimums puts minimums in policy order of the categories.
func sortedMinimums(ms []CategoryMinimum) []CategoryMinimum {
	var out []CategoryMinimum
	for _, c := range Categories {
		for _, m := range ms {
			if m.Category == c {
				out = append(out, m)
			}
		}
	}
	return out
}

// InsertVersion inserts v (a new version of plan v.PlanID) with its
// courses and minimums, and sets v.ID. Errors: only internal ones (database).
func (s Store) InsertVersion(ctx context.Context, v *PlanVersion) error {
	if _, err := s.db.NewInsert().Model(v).ExcludeColumn("id", "in_use").Returning("id, created_at").Exec(ctx); err != nil {
		return fmt.Errorf("insert plan version: %w", err)
	}
	return s.replaceRequirements(ctx, *v)
}

// UpdateVersion overwrites the requirements of version v.ID in place; the
// caller has made sure nobody is enrolled under it. Errors: only internal ones (database).
func (s Store) UpdateVersion(ctx context.Context, v PlanVersion) error {
	_, err := s.db.NewUpdate().Model(&v).Column("min_total_hours", "pass_mark", "max_attempts").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("update plan version %d: %w", v.ID, err)
	}
	for _, table := range []string{"plan_version_courses", "plan_version_minimums"} {
		if _, err := s.db.NewDelete().Table(table).Where("plan_version_id = ?", v.ID).Exec(ctx); err != nil {
			return fmt.Errorf("clear %s of version %d: %w", table, v.ID, err)
		}
	}
	return s.replaceRequirements(ctx, v)
}

func (s Store) replaceRequirements(ctx context.Context, v PlanVersion) error {
	type pvc struct {
		bun.BaseModel `bun:"table:plan_version_courses"`
		VersionID     int64 `bun:"plan_version_id"`
		CourseID      int64 `bun:"course_id"`
		Required      Hours `bun:"required_hours,type:numeric(5,1)"`
		Position      int   `bun:"position"`
	}
	type pvm struct {
		bun.BaseModel `bun:"table:plan_version_minimums"`
		VersionID     int64    `bun:"plan_version_id"`
		Category      Category `bun:"category"`
		Min           Hours    `bun:"min_hours,type:numeric(5,1)"`
	}
	rows := make([]pvc, 0, len(v.Courses))
	for i, c := range v.Courses {
		rows = append(rows, pvc{VersionID: v.ID, CourseID: c.CourseID, Required: c.Required, Position: i + 1})
	}
	if len(rows) > 0 {
		if _, err := s.db.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return fmt.Errorf("insert courses of plan version %d: %w", v.ID, err)
		}
	}
	mins := make([]pvm, 0, len(v.Minimums))
	for _, m := range v.Minimums {
		mins = append(mins, pvm{VersionID: v.ID, Category: m.Category, Min: m.Min})
	}
	if len(mins) > 0 {
		if _, err := s.db.NewInsert().Model(&mins).Exec(ctx); err != nil {
			return fmt.Errorf("insert minimums of plan version %d: %w", v.ID, err)
		}
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
