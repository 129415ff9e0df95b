package workers_test

import (
	"context"
	"testing"

	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

// The subsidy facts are tri-state with provenance: a new worker was never
// asked; a worker may declare; HR's answer wins and a worker cannot
// overwrite it; an explicit "unknown" clears value and provenance.
func TestSubsidyFactsTriStateAndProvenance(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wk := w.register(t, w.collegeA, workers.RegisterInput{Name: "王芳", IDNumber: workerstest.IDNumber("420103")})
	if wk.TargetGroups != nil || wk.TargetGroupsSetBy != "" || wk.Employment != "" || wk.InsuredMonths != nil {
		t.Fatalf("new worker has facts: groups %v by %q, employment %q", wk.TargetGroups, wk.TargetGroupsSetBy, wk.Employment)
	}
	self := workerstest.WorkerUser(t, w.db, wk.ID)

	none, emp := []string{}, "flexible"
	got, err := w.svc.UpdateProfile(ctx, self, wk.ID, workers.ProfileInput{TargetGroups: &none, Employment: &emp})
	if err != nil {
		t.Fatal(err)
	}
	if got.TargetGroups == nil || len(got.TargetGroups) != 0 || got.TargetGroupsSetBy != workers.FactByWorker ||
		got.TargetGroupsSetAt == nil || got.EmploymentSetBy != workers.FactByWorker {
		t.Fatalf("declared none: groups %#v by %q at %v, employment by %q", got.TargetGroups, got.TargetGroupsSetBy,
			got.TargetGroupsSetAt, got.EmploymentSetBy)
	}

	// HR settles the groups; the worker's later declaration is refused.
	grad := []string{workers.GroupGraduateOfYear}
	if got, err = w.svc.UpdateProfile(ctx, w.hrWuhan, wk.ID, workers.ProfileInput{TargetGroups: &grad}); err != nil {
		t.Fatal(err)
	}
	if got.TargetGroupsSetBy != workers.FactByHRReviewer || len(got.TargetGroups) != 1 {
		t.Fatalf("hr groups: %v by %q", got.TargetGroups, got.TargetGroupsSetBy)
	}
	_, err = w.svc.UpdateProfile(ctx, self, wk.ID, workers.ProfileInput{TargetGroups: &none})
	wantCode(t, err, "validation_failed")
	if got, _ = w.svc.ByID(ctx, w.hrWuhan, wk.ID); len(got.TargetGroups) != 1 {
		t.Fatalf("worker overwrote HR's groups: %v", got.TargetGroups)
	}
	// The worker may still change their own employment declaration.
	emp2 := "enterprise_employee"
	if got, err = w.svc.UpdateProfile(ctx, self, wk.ID, workers.ProfileInput{Employment: &emp2}); err != nil || got.Employment != workers.EmpEnterpriseEmployee {
		t.Fatalf("worker employment: %v %v", got, err)
	}

	// HR sets the groups back to "never asked".
	if got, err = w.svc.UpdateProfile(ctx, w.hrWuhan, wk.ID, workers.ProfileInput{TargetGroupsUnknown: true}); err != nil {
		t.Fatal(err)
	}
	if got.TargetGroups != nil || got.TargetGroupsSetBy != "" || got.TargetGroupsSetAt != nil {
		t.Fatalf("unknown again: %#v by %q", got.TargetGroups, got.TargetGroupsSetBy)
	}
}
