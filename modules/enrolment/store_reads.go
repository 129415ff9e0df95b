package enrolment

import (
	"context"
	"fmt"
	"time"

	"tuoyu/modules/catalog"
)

// HoursDone is the sum of the attendance hours recorded for enrolment id,
// the hours a certificate states. Reads for modules above this one.
func (s Store) HoursDone(ctx context.Context, enrolmentID int64) (catalog.Hours, error) {
	var h catalog.Hours
	err := s.db.NewSelect().Table("attendance").ColumnExpr("coalesce(sum(hours), 0)").
		Where("enrolment_id = ?", enrolmentID).Scan(ctx, &h)
	if err != nil {
		return 0, fmt.Errorf("hours of enrolment %d: %w", enrolmentID, err)
	}
	return h, nil
}

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
		ColumnExpr("en.id AS enrolment_id, en.worker_id, en.class_id, cl.provider_org_id, pl.code AS plan_code, en.completed_on").
		Join("JOIN classes AS cl ON cl.id = en.class_id").
		Join("JOIN plans AS pl ON pl.id = cl.plan_id").
		Where("en.status = 'completed' AND en.completed_on IS NOT NULL AND en.id > ?", afterID).
		OrderExpr("en.id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("completed enrolments: %w", err)
	}
	return out, nil
}
