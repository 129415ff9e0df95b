package catalog_test

import (
	"context"
	"os"
	"testing"

	"tuoyu/app/dbtest"
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func seeded(t *testing.T) *catalog.Service {
	t.Helper()
	db := dbtest.DB(t)
	svc := catalog.NewService(db)
	if err := svc.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestSeedIsIdempotent(t *testing.T) {
	ctx := context.Background()
	svc := seeded(t)
	if err := svc.Seed(ctx); err != nil {
		t.Fatalf("second seed: %v", err)
	}
	codes, err := svc.PlanCodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"BYS-GQ", "BYS-ZG", "BYS-5", "BYS-4", "BYS-3", "YYY-5", "YYY-4", "YYY-3", "FZR-GW"} {
		if !codes[c] {
			t.Errorf("plan %s not seeded", c)
		}
	}
	plans, err := svc.Plans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != len(codes) {
		t.Fatalf("%d plans, %d codes", len(plans), len(codes))
	}
	for _, p := range plans {
		if p.Current.Version != 1 || len(p.Current.Courses) == 0 || len(p.Current.Minimums) != 4 {
			t.Errorf("plan %s current version %+v", p.Code, p.Current)
		}
	}
	gq, err := svc.Plan(ctx, "BYS-GQ")
	if err != nil {
		t.Fatal(err)
	}
	if gq.Current.MinTotalHours != catalog.H(120) || gq.Current.Minimum(catalog.CategorySkills) != catalog.H(62) {
		t.Errorf("BYS-GQ = %+v", gq.Current)
	}
}

func editInput(p catalog.PlanSummary, minTotal catalog.Hours) catalog.VersionInput {
	in := catalog.VersionInput{MinTotalHours: minTotal, PassMark: p.Current.PassMark, MaxAttempts: p.Current.MaxAttempts,
		Minimums: map[catalog.Category]catalog.Hours{}}
	for _, c := range p.Current.Courses {
		in.Courses = append(in.Courses, catalog.VersionCourseInput{Code: c.Code, Hours: c.Required})
	}
	for _, m := range p.Current.Minimums {
		in.Minimums[m.Category] = m.Min
	}
	return in
}

func TestEditPlanVersionsOnlyWhenInUse(t *testing.T) {
	ctx := context.Background()
	svc := seeded(t)
	db := dbtest.DB(t)
	p, err := svc.Plan(ctx, "BYS-5")
	if err != nil {
		t.Fatal(err)
	}
	// Nobody uses version 1 yet: the edit changes it in place.
	v, created, err := svc.EditPlan(ctx, p.ID, editInput(p, catalog.H(88)))
	if err != nil {
		t.Fatal(err)
	}
	if created || v.ID != p.CurrentVersionID || v.Version != 1 {
		t.Fatalf("edit of an unused version: created %v, version %+v", created, v)
	}
	// An enrolment takes version 1; the next edit makes version 2.
	used, err := svc.UseCurrentVersion(ctx, db, p.ID)
	if err != nil || used != p.CurrentVersionID {
		t.Fatalf("UseCurrentVersion = %d, %v", used, err)
	}
	p, _ = svc.Plan(ctx, "BYS-5")
	v2, created, err := svc.EditPlan(ctx, p.ID, editInput(p, catalog.H(90)))
	if err != nil {
		t.Fatal(err)
	}
	if !created || v2.Version != 2 || v2.ID == used {
		t.Fatalf("edit of a used version: created %v, version %+v", created, v2)
	}
	vs, err := svc.Versions(ctx, db, []int64{used, v2.ID})
	if err != nil {
		t.Fatal(err)
	}
	if vs[used].MinTotalHours != catalog.H(88) || vs[v2.ID].MinTotalHours != catalog.H(90) {
		t.Errorf("v1 total %s, v2 total %s; want 88 and 90", vs[used].MinTotalHours, vs[v2.ID].MinTotalHours)
	}
	if len(vs[v2.ID].Courses) != len(vs[used].Courses) {
		t.Errorf("v2 has %d courses, v1 %d", len(vs[v2.ID].Courses), len(vs[used].Courses))
	}
	p, _ = svc.Plan(ctx, "BYS-5")
	if p.CurrentVersionID != v2.ID {
		t.Errorf("current version %d, want %d", p.CurrentVersionID, v2.ID)
	}
}

func TestEditPlanRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	svc := seeded(t)
	p, err := svc.Plan(ctx, "YYY-5")
	if err != nil {
		t.Fatal(err)
	}
	in := editInput(p, catalog.H(10000))
	_, _, err = svc.EditPlan(ctx, p.ID, in)
	if !apperr.Is(err, "invalid_plan_version") {
		t.Fatalf("unreachable total: %v", err)
	}
	after, _ := svc.Plan(ctx, "YYY-5")
	if after.Current.MinTotalHours != p.Current.MinTotalHours {
		t.Error("a refused edit changed the plan")
	}
	if _, _, err := svc.EditPlan(ctx, 999999, editInput(p, 0)); !apperr.Is(err, "plan_not_found") {
		t.Errorf("unknown plan: %v", err)
	}
}

func TestUpdateCourseKeepsPlanHoursReachable(t *testing.T) {
	ctx := context.Background()
	svc := seeded(t)
	courses, err := svc.Courses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var first catalog.Course
	for _, c := range courses {
		if c.Code == "SKL-01" {
			first = c
		}
	}
	// BYS-GQ requires all 20 hours of 生活照料.
	_, err = svc.UpdateCourse(ctx, first.ID, catalog.CourseInput{Title: first.Title, TheoryHours: catalog.H(6), PracticeHours: catalog.H(10)})
	if !apperr.Is(err, "course_hours_in_use") {
		t.Fatalf("shrinking below a plan's requirement: %v", err)
	}
	c, err := svc.UpdateCourse(ctx, first.ID, catalog.CourseInput{Title: "生活照料（含回应式喂养）", TheoryHours: catalog.H(6), PracticeHours: catalog.H(16), Description: "说明"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Hours() != catalog.H(22) || c.Title != "生活照料（含回应式喂养）" {
		t.Errorf("updated course %+v", c)
	}
	_, err = svc.UpdateCourse(ctx, first.ID, catalog.CourseInput{Title: " ", TheoryHours: -1})
	if !apperr.Is(err, "invalid_course") {
		t.Errorf("bad course input: %v", err)
	}
}
