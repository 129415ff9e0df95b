package catalog

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
)

// SetAssessment changes plan code's assessment mode through idb (the
// caller's transaction). Errors: apperr.Invalid (invalid_assessment),
// apperr.NotFound (plan_not_found).
func SetAssessment(ctx context.Context, idb bun.IDB, code, mode string) error {
	if !ValidAssessment(mode) {
		return apperr.Invalid("invalid_assessment", "考核方式无效",
			apperr.FieldError{Field: "assessment", Code: "invalid_assessment", Message: "考核方式须为 不考核、理论 或 理论+实操"})
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
