package catalog

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
)

// SetAssessment changes plan code's assessment mode through idb (the
// caller's transaction). Errors: apperr.Invalid (invalid_assessment),
// apperr.NotFound (plan_not_found).
func SetAssessment(ctx context.Context, idb bun.IDB, code, mode string) error {
	if !ValidAssessment(mode) {
		return errInvalidAssessment()
	}
	res, err := idb.NewUpdate().Table("plans").Set("assessment = ?", mode).Where("code = ?", code).Exec(ctx)
	if err != nil {
		return fmt.Errorf("set assessment of plan %s: %w", code, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errPlanNotFound()
	}
	return nil
}

func errInvalidAssessment() *apperr.Error {
	return apperr.Invalid("invalid_assessment", "考核方式无效",
		apperr.FieldError{Field: "assessment", Code: "invalid_assessment", Message: "考核方式须为 不考核、理论 或 理论+实操"})
}

// SetAssessment changes plan code's assessment mode (admin; audited).
// Errors: as the function SetAssessment.
func (s *Service) SetAssessment(ctx context.Context, code, mode string) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := SetAssessment(ctx, tx, code, mode); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "catalog.plan_assessment", TargetType: "plan", TargetID: code,
			Summary: map[string]any{"assessment": mode}})
	})
}

// assessmentMode is an option of the plan page's select.
type assessmentMode struct{ Value, Label string }

func assessmentModes() []assessmentMode {
	var out []assessmentMode
	for _, m := range []string{AssessmentNone, AssessmentTheory, AssessmentTheoryPractical} {
		out = append(out, assessmentMode{m, AssessmentLabel(m)})
	}
	return out
}
