// Package enrolment is exempt: nothing here is reported or counted.
package enrolment

import (
	"context"

	"github.com/uptrace/bun"
)

func list(ctx context.Context, db *bun.DB) error {
	return db.NewRaw("SELECT * FROM workers JOIN users ON true").Scan(ctx)
}
