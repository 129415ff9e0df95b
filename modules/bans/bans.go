// Package bans keeps lifetime bans (终身禁入, DESIGN §4.6): regulators record
// them by resident ID number (the person need not be a worker yet), with the
// direct managers named in the same decision banned with the person; lifting
// one takes a request by one regulator and a confirmation by another with a
// document reference. Other modules ask IsBanned before they enrol, certify,
// pay or import anyone.
package bans

import (
	"time"

	"github.com/uptrace/bun"
)

// Ban is one row of the bans table: one person under one decision.
type Ban struct {
	bun.BaseModel `bun:"table:bans,alias:b"`

	ID           int64     `bun:"id,pk,autoincrement"`
	IDNumberEnc  []byte    `bun:"id_number_enc"`
	IDNumberIdx  []byte    `bun:"id_number_idx"`
	IDMask       string    `bun:"id_mask"`
	Name         string    `bun:"name"`
	Reason       string    `bun:"reason"`
	DecisionNo   string    `bun:"decision_no"`
	DecidedOn    time.Time `bun:"decided_on,type:date"`
	RegionCode   string    `bun:"region_code"`
	PrimaryBanID int64     `bun:"primary_ban_id,nullzero"`
	// JoinsBanID: this decision was recorded while the person was already
	// banned (ban JoinsBanID); it shares that one ban state and is lifted
	// with it. Never shown to the recording regulator: it may lie in
	// another region.
	JoinsBanID      int64      `bun:"joins_ban_id,nullzero"`
	RecordedBy      int64      `bun:"recorded_by"`
	RecordedAt      time.Time  `bun:"recorded_at,nullzero,default:now()"`
	LiftRequestedBy int64      `bun:"lift_requested_by,nullzero"`
	LiftRequestedAt *time.Time `bun:"lift_requested_at"`
	LiftDocument    *string    `bun:"lift_document"`
	LiftReason      *string    `bun:"lift_reason"`
	LiftedBy        int64      `bun:"lifted_by,nullzero"`
	LiftedAt        *time.Time `bun:"lifted_at"`

	// Joined for display; never written.
	RecordedByName      string `bun:"recorded_by_name,scanonly"`
	LiftRequestedByName string `bun:"lift_requested_by_name,scanonly"`
	LiftedByName        string `bun:"lifted_by_name,scanonly"`
	RegionName          string `bun:"region_name,scanonly"`
}

// Status is where a ban stands.
type Status string

// Statuses of a ban.
const (
	StatusActive        Status = "active"
	StatusLiftRequested Status = "lift_requested"
	StatusLifted        Status = "lifted"
)

// Status returns where b stands.
func (b *Ban) Status() Status {
	switch {
	case b.LiftedAt != nil:
		return StatusLifted
	case b.LiftRequestedAt != nil:
		return StatusLiftRequested
	}
	return StatusActive
}

// Label is the Chinese name of the status.
func (s Status) Label() string {
	switch s {
	case StatusActive:
		return "生效中"
	case StatusLiftRequested:
		return "解除待复核"
	case StatusLifted:
		return "已解除"
	}
	return string(s)
}

// Person is someone named in a decision: the subject or a direct manager.
type Person struct {
	Name     string
	IDNumber string
}

// RecordInput is a ban decision as a regulator enters it. Managers are the
// direct managers named in the same decision; each gets a ban of their own.
type RecordInput struct {
	Person
	Reason     string
	DecisionNo string
	DecidedOn  string // YYYY-MM-DD
	RegionCode string // defaults to the regulator's region
	Managers   []Person
}
