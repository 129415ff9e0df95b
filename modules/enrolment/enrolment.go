// Package enrolment keeps workers' places in classes: enrolment by the
// worker, by a provider or from a roster, the waiting list of each class and
// of each plan, withdrawal with promotion of the next waiting worker, and
// the steps of a class's life that change places (opening places the plan's
// waiting list, starting ends the class's waiting list, cancelling ends
// every place).
//
// Capacity holds under concurrency because every enrolment change locks
// its class row first and a trigger keeps the class's counts, which a CHECK
// bounds by the capacity. An exclusion constraint keeps one worker out of
// two classes with overlapping dates; it counts waiting-list places too, on
// purpose: a waiting worker may be promoted at any time and must then be
// free on the class's dates.
//
// Banned workers are refused by the workers.banned flag, read under a share
// lock inside the enrolling transaction. The bans module keeps that flag in
// step (and sits above this module, so it cannot be imported here); the
// lock makes a ban recorded at the same moment wait for the enrolment or be
// seen by it.
//
// Every change that gives or takes a worker's place also updates the
// workers module's provider_workers read model in the same transaction:
// that is how a provider's scope over workers follows its classes.
package enrolment

import (
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/classes"
)

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

// Attending reports whether s takes a seat in the class (hours count).
func (s Status) Attending() bool { return s == StatusEnrolled || s == StatusCompleted }

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

// View is an enrolment with its class and worker (masked), as lists and
// pages show it. Progress in hours is added by the attendance module.
type View struct {
	ID            int64      `bun:"id" json:"id"`
	ClassID       int64      `bun:"class_id" json:"class_id"`
	WorkerID      int64      `bun:"worker_id" json:"worker_id"`
	PlanVersionID int64      `bun:"plan_version_id" json:"plan_version_id"`
	Status        Status     `bun:"status" json:"status"`
	Source        Source     `bun:"source" json:"source"`
	Position      *int       `bun:"position" json:"position,omitempty"`
	CompletedOn   *time.Time `bun:"completed_on" json:"-"`
	CreatedAt     time.Time  `bun:"created_at" json:"created_at"`

	ClassName    string        `bun:"class_name" json:"class_name"`
	ClassState   classes.State `bun:"class_state" json:"class_state"`
	StartsOn     time.Time     `bun:"starts_on" json:"-"`
	EndsOn       time.Time     `bun:"ends_on" json:"-"`
	Place        string        `bun:"place" json:"place"`
	PlanCode     string        `bun:"plan_code" json:"plan_code"`
	PlanName     string        `bun:"plan_name" json:"plan_name"`
	ProviderName string        `bun:"provider_name" json:"provider_name"`
	Version      int           `bun:"version" json:"plan_version"`
	WorkerName   string        `bun:"worker_name" json:"worker_name"`
	WorkerIDMask string        `bun:"worker_id_mask" json:"worker_id_mask"`
}

// CompletedOnText is the completion date as YYYY-MM-DD, "" when none.
func (v View) CompletedOnText() string {
	if v.CompletedOn == nil {
		return ""
	}
	return v.CompletedOn.Format(time.DateOnly)
}

func errNotFound() *apperr.Error {
	return apperr.NotFound("enrolment_not_found", "报名记录不存在")
}

func errOverlap() *apperr.Error {
	return apperr.Conflict("class_overlap", "该学员已报名时间重叠的其他培训班")
}

func errAlreadyEnrolled() *apperr.Error {
	return apperr.Conflict("already_enrolled", "该学员已报名本培训班")
}

// errNotRegistrable is the neutral answer to a provider naming a banned
// person: the same words a college gets for such a roster row.
func errNotRegistrable() *apperr.Error {
	const msg = "该人员无法登记，请联系属地卫健部门"
	return apperr.Invalid("not_registrable", msg,
		apperr.FieldError{Field: "id_number", Code: "not_registrable", Message: msg})
}

func errBanned() *apperr.Error {
	return apperr.Forbidden("banned", "该人员已被列入托育从业禁止名单，不能报名")
}
