package catalog_test

import (
	"context"
	"testing"

	"tuoyu/app/dbtest"
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
)

func TestPlanAssessmentModes(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	svc := catalog.NewService(db)
	if err := svc.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]string{"BYS-ZG": "none", "FZR-GW": "theory", "BYS-GQ": "theory_practical", "YYY-3": "theory_practical"} {
		p, err := svc.Plan(ctx, code)
		if err != nil || p.Assessment != want {
			t.Errorf("%s assessment = %q (%v), want %s", code, p.Assessment, err, want)
		}
	}
	if err := svc.SetAssessment(ctx, "YYY-3", "theory"); err != nil {
		t.Fatal(err)
	}
	if p, _ := svc.Plan(ctx, "YYY-3"); p.Assessment != "theory" {
		t.Errorf("after the change: %q", p.Assessment)
	}
	if err := svc.SetAssessment(ctx, "YYY-3", "oral"); !apperr.Is(err, "invalid_assessment") {
		t.Errorf("bad mode: %v", err)
	}
	if err := svc.SetAssessment(ctx, "NOPE-1", "theory"); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("unknown plan: %v", err)
	}
	// Seeding again keeps the admin's choice.
	if err := svc.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := svc.Plan(ctx, "YYY-3"); p.Assessment != "theory" {
		t.Errorf("seed overwrote the mode: %q", p.Assessment)
	}
	_ = svc.SetAssessment(ctx, "YYY-3", "theory_practical")
}
