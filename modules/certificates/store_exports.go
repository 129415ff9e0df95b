package certificates

import "github.com/uptrace/bun"

// Certified selects the enrolment_id of every enrolment a certificate
// stands for (valid, expired, or revoked for a ban or fraud): a sub-query
// the catch-up selection excludes, so an enrolment is never issued twice.
// One revoked as issued in error does not count: if the result is
// corrected back to a pass, the catch-up issues a new one.
func Certified(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("certificates").Column("enrolment_id").Where("enrolment_id IS NOT NULL").
		Where("NOT (status = ? AND revoke_reason = ?)", StatusRevoked, ReasonIssuedInError) // the partial unique index's predicate, so it can serve this
}
