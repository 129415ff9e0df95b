// Package enrolment runs training delivery: classes (one provider's run of a
// plan), enrolments of workers in classes with a waiting list per class and
// per plan, attendance hours per course, and completion, recomputed in the
// same transaction as every attendance change.
//
// Capacity holds under concurrency because every enrolment change locks
// its class row first and a trigger keeps the class's counts, which a CHECK
// bounds by the capacity: an overfull class cannot be stored. An exclusion
// constraint keeps one worker out of two classes with overlapping dates;
// it counts waiting-list places too, on purpose: a waiting worker may be
// promoted at any time and must then be free on the class's dates.
//
// Banned workers are refused by the workers.banned flag, read under a share
// lock inside the enrolling transaction. The bans module keeps that flag in
// step (and sits above this module, so it cannot be imported here); the
// lock makes a ban recorded at the same moment wait for the enrolment or be
// seen by it.
package enrolment

import (
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/catalog"
)

// State is where a class is in its life.
type State string

// Class states: draft → open → running → completed, or cancelled from any
// state before completed.
const (
	StateDraft     State = "draft"
	StateOpen      State = "open"
	StateRunning   State = "running"
	StateCompleted State = "completed"
	StateCancelled State = "cancelled"
)

// Label is the Chinese name of s.
func (s State) Label() string {
	switch s {
	case StateDraft:
		return "草稿"
	case StateOpen:
		return "报名中"
	case StateRunning:
		return "培训中"
	case StateCompleted:
		return "已结业"
	case StateCancelled:
		return "已取消"
	}
	return string(s)
}

// Status is where an enrolment stands.
type Status string

// Enrolment statuses. Enrolled and completed take a place; waitlisted waits
// in order of position; withdrawn and cancelled are kept for the record.
const (
	StatusEnrolled   Status = "enrolled"
	StatusWaitlisted Status = "waitlisted"
	StatusWithdrawn  Status = "withdrawn"
	StatusCompleted  Status = "completed"
	StatusCancelled  Status = "cancelled"
)

// Label is the Chinese name of s.
func (s Status) Label() string {
	switch s {
	case StatusEnrolled:
		return "已报名"
	case StatusWaitlisted:
		return "候补"
	case StatusWithdrawn:
		return "已退出"
	case StatusCompleted:
		return "已完成学时"
	case StatusCancelled:
		return "班级取消"
	}
	return string(s)
}

// Active reports whether s still holds the worker in the class.
func (s Status) Active() bool {
	return s == StatusEnrolled || s == StatusWaitlisted || s == StatusCompleted
}

// Source says who enrolled the worker.
type Source string

// Enrolment sources (DESIGN §1).
const (
	SourceSelf     Source = "self"
	SourceRoster   Source = "roster"
	SourceProvider Source = "provider"
)

// Label is the Chinese name of s, as the class roster shows it.
func (s Source) Label() string {
	switch s {
	case SourceSelf:
		return "本人报名"
	case SourceRoster:
		return "花名册"
	case SourceProvider:
		return "机构代报"
	}
	return string(s)
}

// Class is one run of a plan by a provider.
type Class struct {
	bun.BaseModel `bun:"table:classes,alias:cl"`

	ID              int64      `bun:"id,pk,autoincrement" json:"id"`
	ProviderOrgID   int64      `bun:"provider_org_id,notnull" json:"provider_org_id"`
	PlanID          int64      `bun:"plan_id,notnull" json:"-"`
	Name            string     `bun:"name,notnull" json:"name"`
	StartsOn        time.Time  `bun:"starts_on,type:date,notnull" json:"-"`
	EndsOn          time.Time  `bun:"ends_on,type:date,notnull" json:"-"`
	Place           string     `bun:"place,notnull" json:"place"`
	RegionCode      string     `bun:"region_code,notnull" json:"region"`
	Capacity        int        `bun:"capacity,notnull" json:"capacity"`
	EnrolOpensOn    *time.Time `bun:"enrol_opens_on,type:date" json:"-"`
	EnrolClosesOn   *time.Time `bun:"enrol_closes_on,type:date" json:"-"`
	State           State      `bun:"state,notnull" json:"state"`
	EnrolledCount   int        `bun:"enrolled_count,notnull" json:"enrolled"`
	WaitlistedCount int        `bun:"waitlisted_count,notnull" json:"waitlisted"`
	CancelReason    string     `bun:"cancel_reason,nullzero" json:"cancel_reason,omitempty"`
	CancelledAt     *time.Time `bun:"cancelled_at" json:"cancelled_at,omitempty"`
	CreatedBy       int64      `bun:"created_by,nullzero" json:"-"`
	CreatedAt       time.Time  `bun:"created_at,nullzero,notnull,default:now()" json:"created_at"`
	UpdatedAt       time.Time  `bun:"updated_at,nullzero,notnull,default:now()" json:"-"`

	// Joined for display, never written.
	PlanCode     string `bun:"plan_code,scanonly" json:"plan_code"`
	PlanName     string `bun:"plan_name,scanonly" json:"plan_name"`
	ProviderName string `bun:"provider_name,scanonly" json:"provider_name"`
	RegionName   string `bun:"region_name,scanonly" json:"region_name"`
}

// Remaining is the number of free places.
func (c Class) Remaining() int {
	if c.EnrolledCount >= c.Capacity {
		return 0
	}
	return c.Capacity - c.EnrolledCount
}

// Enrolment is one worker in one class.
type Enrolment struct {
	bun.BaseModel `bun:"table:enrolments,alias:en"`

	ID             int64      `bun:"id,pk,autoincrement" json:"id"`
	ClassID        int64      `bun:"class_id,notnull" json:"class_id"`
	WorkerID       int64      `bun:"worker_id,notnull" json:"worker_id"`
	PlanVersionID  int64      `bun:"plan_version_id,notnull" json:"plan_version_id"`
	Status         Status     `bun:"status,notnull" json:"status"`
	Source         Source     `bun:"source,notnull" json:"source"`
	Position       *int       `bun:"position" json:"position,omitempty"`
	Period         string     `bun:"period,notnull" json:"-"`
	RosterImportID int64      `bun:"roster_import_id,nullzero" json:"roster_import_id,omitempty"`
	CompletedOn    *time.Time `bun:"completed_on,type:date" json:"-"`
	WithdrawnAt    *time.Time `bun:"withdrawn_at" json:"withdrawn_at,omitempty"`
	CreatedBy      int64      `bun:"created_by,nullzero" json:"-"`
	CreatedAt      time.Time  `bun:"created_at,nullzero,notnull,default:now()" json:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at,nullzero,notnull,default:now()" json:"-"`
}

// Hours is re-exported so callers of this package need not import catalog
// for attendance values.
type Hours = catalog.Hours
