package catalog

import (
	"context"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
)

// Assessment modes of a plan (DESIGN §7): which parts a class of the plan
// ends in.
const (
	AssessmentNone            = "none"             // the certificate follows completion
	AssessmentTheory          = "theory"           // 理论 only
	AssessmentTheoryPractical = "theory_practical" // 理论 and 实操
)

// ValidAssessment reports whether mode is one of the three modes.
func ValidAssessment(mode string) bool {
	return mode == AssessmentNone || mode == AssessmentTheory || mode == AssessmentTheoryPractical
}

// AssessmentLabel is the Chinese name of an assessment mode.
func AssessmentLabel(mode string) string {
	switch mode {
	case AssessmentNone:
		return "不考核(完成学时即发证)"
	case AssessmentTheory:
		return "理论考核"
	case AssessmentTheoryPractical:
		return "理论+实操考核"
	}
	return mode
}

// DefaultAssessment is the mode DESIGN §7 gives a plan code: in-service
// training of 保育师 ends without an assessment, the manager's course in
// theory only, every other plan in theory and practical.
func DefaultAssessment(code string) string {
	switch code {
	case "BYS-ZG":
		return AssessmentNone
	case "FZR-GW":
		return AssessmentTheory
	}
	return AssessmentTheoryPractical
}

func errInvalidAssessment() *apperr.Error {
	return apperr.Invalid("invalid_assessment", "考核方式无效",
		apperr.FieldError{Field: "assessment", Code: "invalid_assessment", Message: "考核方式须为 不考核、理论 或 理论+实操"})
}

// SetAssessment changes plan code's assessment mode (admin; audited).
// Errors: apperr.Invalid (invalid_assessment), apperr.NotFound
// (plan_not_found).
func (s *Service) SetAssessment(ctx context.Context, code, mode string) error {
	if !ValidAssessment(mode) {
		return errInvalidAssessment()
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := NewStore(tx).SetAssessment(ctx, code, mode); err != nil {
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
