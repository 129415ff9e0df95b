package catalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
)

// Service holds the catalogue's use cases.
type Service struct {
	db *bun.DB
}

// NewService returns the catalogue service on db.
func NewService(db *bun.DB) *Service { return &Service{db: db} }

// PlanCodes returns the code of every plan, for validating roster rows.
// Errors: only internal ones (database).
func (s *Service) PlanCodes(ctx context.Context) (map[string]bool, error) {
	codes, err := NewStore(s.db).PlanCodes(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(codes))
	for _, c := range codes {
		out[c] = true
	}
	return out, nil
}

// Courses returns every course, by code. Errors: only internal ones (database).
func (s *Service) Courses(ctx context.Context) ([]Course, error) {
	return s.CoursesIn(ctx, s.db)
}

// CoursesIn is Courses read on idb, the caller's transaction: a transaction
// that holds locks must not wait for a second connection from the pool,
// which requests waiting on those locks may all hold.
func (s *Service) CoursesIn(ctx context.Context, idb bun.IDB) ([]Course, error) {
	return NewStore(idb).Courses(ctx)
}

// Course returns one course; apperr.NotFound when absent. Errors: NotFound course_not_found.
func (s *Service) Course(ctx context.Context, id int64) (Course, error) {
	return NewStore(s.db).CourseByID(ctx, id)
}

// PlanSummary is a plan with its current version, for lists.
type PlanSummary struct {
	Plan
	Current PlanVersion `json:"current"`
}

// Plans returns every plan with its current version, in four queries.
// Errors: only internal ones (database).
func (s *Service) Plans(ctx context.Context) ([]PlanSummary, error) {
	st := NewStore(s.db)
	ps, err := st.Plans(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.CurrentVersionID)
	}
	vs, err := st.Versions(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]PlanSummary, 0, len(ps))
	for _, p := range ps {
		out = append(out, PlanSummary{Plan: p, Current: vs[p.CurrentVersionID]})
	}
	return out, nil
}

// Plan returns the plan with code and its current version;
// apperr.NotFound (plan_not_found) when absent. Errors: NotFound plan_not_found.
func (s *Service) Plan(ctx context.Context, code string) (PlanSummary, error) {
	st := NewStore(s.db)
	p, err := st.PlanByCode(ctx, code)
	if err != nil {
		return PlanSummary{}, err
	}
	vs, err := st.Versions(ctx, []int64{p.CurrentVersionID})
	if err != nil {
		return PlanSummary{}, err
	}
	return PlanSummary{Plan: p, Current: vs[p.CurrentVersionID]}, nil
}

// PlanByCode returns the plan with code read through idb (the caller's
// transaction); apperr.NotFound (plan_not_found) when absent. Errors: NotFound plan_not_found.
func (s *Service) PlanByCode(ctx context.Context, idb bun.IDB, code string) (Plan, error) {
	return NewStore(idb).PlanByCode(ctx, code)
}

// PlansByID returns the plans with the given IDs, in one query.
// Errors: only internal ones (database).
func (s *Service) PlansByID(ctx context.Context, idb bun.IDB, ids []int64) (map[int64]Plan, error) {
	out := map[int64]Plan{}
	if len(ids) == 0 {
		return out, nil
	}
	ps, err := NewStore(idb).PlansByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}

// Versions returns plan versions by ID with courses and minimums, read
// through idb, in a fixed number of queries. Errors: only internal ones (database).
func (s *Service) Versions(ctx context.Context, idb bun.IDB, ids []int64) (map[int64]PlanVersion, error) {
	return NewStore(idb).Versions(ctx, ids)
}

// UseCurrentVersion returns the current version of plan planID and marks it
// in use, inside the caller's transaction (an enrolment about to point at
// it). From then on an edit of the plan makes a new version. It returns
// apperr.NotFound (plan_not_found) when the plan is absent. Errors: NotFound plan_not_found.
func (s *Service) UseCurrentVersion(ctx context.Context, idb bun.IDB, planID int64) (int64, error) {
	st := NewStore(idb)
	versionID, err := st.CurrentVersionID(ctx, planID)
	if err != nil {
		return 0, err
	}
	return versionID, st.MarkVersionInUse(ctx, versionID)
}

// EditPlan changes the requirements of plan planID. When the current
// version is in use (someone enrolled under it) a new version is made and
// becomes current; otherwise the current version is changed in place. It
// returns the version now current and whether it is new. An edit that asks
// exactly what the current version asks changes and records nothing.
// Errors: apperr.NotFound (plan_not_found), apperr.Invalid (invalid_plan_version).
func (s *Service) EditPlan(ctx context.Context, planID int64, in VersionInput) (PlanVersion, bool, error) {
	var out PlanVersion
	var created bool
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		p, err := st.LockPlan(ctx, planID)
		if err != nil {
			return err
		}
		courses, err := st.Courses(ctx)
		if err != nil {
			return err
		}
		v, err := in.Resolve(byCode(courses))
		if err != nil {
			return err
		}
		// Lock the current version: an enrolment marking it in use waits for
		// us, so we never change a version somebody just enrolled under.
		cur, err := st.LockVersion(ctx, p.CurrentVersionID)
		if err != nil {
			return err
		}
		v.PlanID = p.ID
		// Putting back what GET returned changes nothing: no new version
		// for an edit that edits nothing, and no audit event.
		stored, err := st.Versions(ctx, []int64{cur.ID})
		if err != nil {
			return err
		}
		if sameRequirements(stored[cur.ID], v) {
			out = stored[cur.ID]
			return nil
		}
		if cur.InUse {
			v.Version = cur.Version + 1
			if err := st.InsertVersion(ctx, &v); err != nil {
				return err
			}
			if err := st.SetCurrentVersion(ctx, p.ID, v.ID); err != nil {
				return err
			}
			created = true
		} else {
			v.ID, v.Version, v.CreatedAt = cur.ID, cur.Version, cur.CreatedAt
			if err := st.UpdateVersion(ctx, v); err != nil {
				return err
			}
		}
		out = v
		return audit.Record(ctx, tx, audit.Event{
			Action: "catalog.plan_edit", TargetType: "plan", TargetID: strconv.FormatInt(p.ID, 10),
			Summary: map[string]any{
				"plan_code": p.Code, "version": v.Version, "new_version": created,
				"min_total_hours": v.MinTotalHours.String(), "courses": len(v.Courses),
			},
		})
	})
	if err != nil {
		return PlanVersion{}, false, err
	}
	return out, created, nil
}

// sameRequirements reports whether versions a and b ask the same: total,
// pass mark, attempts, courses with their required hours (in any order) and
// category minimums.
func sameRequirements(a, b PlanVersion) bool {
	if a.MinTotalHours != b.MinTotalHours || a.PassMark != b.PassMark || a.MaxAttempts != b.MaxAttempts ||
		len(a.Courses) != len(b.Courses) || len(a.Minimums) != len(b.Minimums) {
		return false
	}
	req := map[int64]Hours{}
	for _, c := range a.Courses {
		req[c.CourseID] = c.Required
	}
	for _, c := range b.Courses {
		if r, ok := req[c.CourseID]; !ok || r != c.Required {
			return false
		}
	}
	min := map[Category]Hours{}
	for _, m := range a.Minimums {
		min[m.Category] = m.Min
	}
	for _, m := range b.Minimums {
		if v, ok := min[m.Category]; !ok || v != m.Min {
			return false
		}
	}
	return true
}

// CourseInput is what an admin edits of a course.
type CourseInput struct {
	Title         string `json:"title"`
	TheoryHours   Hours  `json:"theory_hours"`
	PracticeHours Hours  `json:"practice_hours"`
	Description   string `json:"description"`
}

// UpdateCourse changes a course's title, hours and description. Its hours
// cannot fall below what any plan version requires of it, since enrolled
// workers would be left unable to complete. Errors: apperr.NotFound
// (course_not_found), apperr.Invalid (invalid_course), apperr.Conflict
// (course_hours_in_use).
func (s *Service) UpdateCourse(ctx context.Context, id int64, in CourseInput) (Course, error) {
	in.Title = strings.TrimSpace(in.Title)
	var fields []apperr.FieldError
	if in.Title == "" {
		fields = append(fields, apperr.FieldError{Field: "title", Code: "required", Message: "请填写课程名称"})
	}
	if in.TheoryHours < 0 {
		fields = append(fields, apperr.FieldError{Field: "theory_hours", Code: "negative", Message: "理论学时不能为负数"})
	}
	if in.PracticeHours < 0 {
		fields = append(fields, apperr.FieldError{Field: "practice_hours", Code: "negative", Message: "实操学时不能为负数"})
	}
	if in.TheoryHours+in.PracticeHours <= 0 || in.TheoryHours+in.PracticeHours > H(999) {
		fields = append(fields, apperr.FieldError{Field: "theory_hours", Code: "invalid", Message: "课程总学时应大于0且不超过999"})
	}
	if len(fields) > 0 {
		return Course{}, apperr.Invalid("invalid_course", "课程填写有误", fields...)
	}
	var c Course
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		var err error
		if c, err = st.LockCourse(ctx, id); err != nil {
			return err
		}
		need, err := st.HoursRequired(ctx, id)
		if err != nil {
			return err
		}
		if in.TheoryHours+in.PracticeHours < need {
			return apperr.Conflict("course_hours_in_use",
				fmt.Sprintf("有培训计划要求本课程 %s 学时，课程总学时不能少于此数", need))
		}
		c.Title, c.TheoryHours, c.PracticeHours, c.Description = in.Title, in.TheoryHours, in.PracticeHours, in.Description
		if err := st.UpdateCourse(ctx, &c); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: "catalog.course_update", TargetType: "course", TargetID: strconv.FormatInt(id, 10),
			Summary: map[string]any{"code": c.Code, "hours": c.Hours().String()},
		})
	})
	return c, err
}

// Seed loads the shipped catalogue: courses and plans whose codes are not
// stored yet are inserted, existing ones are left as admins edited them. It
// is safe to run on every start.
// Errors: Invalid invalid_plan for a broken shipped catalogue; otherwise only internal ones.
func (s *Service) Seed(ctx context.Context) error {
	seed, err := LoadSeed()
	if err != nil {
		return err
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, sc := range seed.Courses {
			c := Course{Code: sc.Code, Category: sc.Category, Title: sc.Title, TheoryHours: sc.TheoryHours,
				PracticeHours: sc.PracticeHours, Description: sc.Description}
			if err := NewStore(tx).InsertCourseIfAbsent(ctx, &c); err != nil {
				return err
			}
		}
		st := NewStore(tx)
		courses, err := st.Courses(ctx)
		if err != nil {
			return err
		}
		known := byCode(courses)
		for _, sp := range seed.Plans {
			p := Plan{Code: sp.Code, Name: sp.Name, Occupation: sp.Occupation, Purpose: sp.Purpose, Level: sp.Level,
				Assessment: DefaultAssessment(sp.Code)}
			added, err := st.InsertPlanIfAbsent(ctx, &p)
			if err != nil {
				return err
			}
			if !added {
				continue
			}
			v, err := sp.VersionInput.Resolve(known)
			if err != nil {
				return fmt.Errorf("seed plan %s: %w", sp.Code, err)
			}
			v.PlanID, v.Version = p.ID, 1
			if err := st.InsertVersion(ctx, &v); err != nil {
				return err
			}
			if err := st.SetCurrentVersion(ctx, p.ID, v.ID); err != nil {
				return fmt.Errorf("seed plan %s: %w", sp.Code, err)
			}
		}
		return nil
	})
}

func byCode(cs []Course) map[string]Course {
	m := make(map[string]Course, len(cs))
	for _, c := range cs {
		m[c.Code] = c
	}
	return m
}
