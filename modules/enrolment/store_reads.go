package enrolment

import (
	"context"
	"fmt"

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
