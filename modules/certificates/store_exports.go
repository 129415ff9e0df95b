package certificates

import "github.com/uptrace/bun"

// Certified selects the enrolment_id of every enrolment holding a
// certificate (valid, expired or revoked): a sub-query the catch-up
// selection excludes, so an enrolment is never issued twice.
func Certified(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("certificates").Column("enrolment_id").Where("enrolment_id IS NOT NULL")
}
