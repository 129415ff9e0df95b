package enrolment

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
)

// Completion is an enrolment that met its plan's hours, as certificate
// issuing needs it.
type Completion struct {
	EnrolmentID   int64     `bun:"enrolment_id"`
	WorkerID      int64     `bun:"worker_id"`
	ClassID       int64     `bun:"class_id"`
	ProviderOrgID int64     `bun:"provider_org_id"`
	PlanCode      string    `bun:"plan_code"`
	CompletedOn   time.Time `bun:"completed_on"`
}

// Completions returns the completed enrolments with an id above afterID,
// at most limit, in id order (for issuing certificates of plans that end
// with completion, and the demo).
func (s Store) Completions(ctx context.Context, afterID int64, limit int) ([]Completion, error) {
	var out []Completion
	err := s.db.NewSelect().TableExpr("enrolments AS en").
		ColumnExpr("en.id AS enrolment_id, en.worker_id, en.class_id, cl.provider_org_id, cl.plan_code, en.completed_on").
		Join("JOIN (?) AS cl ON cl.id = en.class_id", classes.Display(s.db)).
		Where("en.status = 'completed' AND en.completed_on IS NOT NULL AND en.id > ?", afterID).
		OrderExpr("en.id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("completed enrolments: %w", err)
	}
	return out, nil
}

// CompletionsWithout returns at most limit completed enrolments of plans
// assessed by nobody (assessment mode none: the certificate comes with
// completion) that are not in sub-query except, in id order, in one query.
func (s Store) CompletionsWithout(ctx context.Context, except *bun.SelectQuery, limit int) ([]Completion, error) {
	var out []Completion
	err := s.db.NewSelect().TableExpr("enrolments AS en").
		ColumnExpr("en.id AS enrolment_id, en.worker_id, en.class_id, cl.provider_org_id, cl.plan_code, en.completed_on").
		Join("JOIN (?) AS cl ON cl.id = en.class_id", classes.Display(s.db)).
		Join("JOIN (?) AS pa ON pa.code = cl.plan_code", catalog.PlanAssessments(s.db)).
		Where("en.status = 'completed' AND en.completed_on IS NOT NULL AND pa.assessment = ?", catalog.AssessmentNone).
		Where("NOT EXISTS (SELECT 1 FROM (?) AS x(id) WHERE x.id = en.id)", except). // an anti-join at any size
		OrderExpr("en.id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("completions without certificate: %w", err)
	}
	return out, nil
}
