// Package assessments runs the 考核 that ends a class: sittings of one part
// (theory 理论 or practical 实操) and attempt, their candidates (fixed when
// the sitting opens), examiners, results with a history of corrections, the
// outcome of every enrolment, and the jobs that schedule sittings, close
// them and remind candidates.
//
// Class, enrolment and plan data come only through training.go, which calls
// the enrolment and catalog modules; this module's SQL names only its own
// tables. A worker is never in two overlapping sittings: the candidates
// table carries the sitting's time and an exclusion constraint refuses the
// overlap. The job never creates a part and attempt twice: a unique
// constraint and ON CONFLICT DO NOTHING hold across instances.
package assessments

import (
	"time"

	"github.com/uptrace/bun"
)

// Kind is a part of an assessment.
type Kind string

// The two parts.
const (
	KindTheory    Kind = "theory"
	KindPractical Kind = "practical"
)

// Valid reports whether k is a known part.
func (k Kind) Valid() bool { return k == KindTheory || k == KindPractical }

// Label is the Chinese name of k.
func (k Kind) Label() string {
	if k == KindPractical {
		return "实操"
	}
	return "理论"
}

// State is where a sitting is.
type State string

// Sitting states: scheduled → closed (results in, or the result window
// passed), or cancelled before any result.
const (
	StateScheduled State = "scheduled"
	StateClosed    State = "closed"
	StateCancelled State = "cancelled"
)

// Label is the Chinese name of s.
func (s State) Label() string {
	switch s {
	case StateScheduled:
		return "已安排"
	case StateClosed:
		return "已结束"
	case StateCancelled:
		return "已取消"
	}
	return string(s)
}

// Outcome is where an enrolment stands in its assessment.
type Outcome string

// Outcomes (issue 10).
const (
	OutcomeInTraining Outcome = "in_training"
	OutcomeAwaiting   Outcome = "awaiting_assessment"
	OutcomePassed     Outcome = "passed"
	OutcomeFailed     Outcome = "failed"
)

// Label is the Chinese name of o.
func (o Outcome) Label() string {
	switch o {
	case OutcomeInTraining:
		return "培训中"
	case OutcomeAwaiting:
		return "待考核"
	case OutcomePassed:
		return "考核合格"
	case OutcomeFailed:
		return "考核不合格"
	}
	return string(o)
}

// Sitting is one part and attempt of one class's assessment.
type Sitting struct {
	bun.BaseModel `bun:"table:assessment_sittings,alias:s"`

	ID            int64      `bun:"id,pk,autoincrement" json:"id"`
	ClassID       int64      `bun:"class_id,notnull" json:"class_id"`
	ProviderOrgID int64      `bun:"provider_org_id,notnull" json:"-"`
	RegionCode    string     `bun:"region_code,notnull" json:"-"`
	Kind          Kind       `bun:"kind,notnull" json:"kind"`
	Attempt       int        `bun:"attempt,notnull" json:"attempt"`
	StartsAt      time.Time  `bun:"starts_at,notnull" json:"starts_at"`
	EndsAt        time.Time  `bun:"ends_at,notnull" json:"ends_at"`
	Place         string     `bun:"place,notnull" json:"place"`
	Capacity      int        `bun:"capacity,notnull" json:"capacity"`
	Rooms         int        `bun:"rooms,notnull" json:"rooms"`
	State         State      `bun:"state,notnull" json:"state"`
	CreatedByJob  bool       `bun:"created_by_job,notnull" json:"created_by_job"`
	CreatedBy     int64      `bun:"created_by,nullzero" json:"-"`
	CancelReason  string     `bun:"cancel_reason,nullzero" json:"cancel_reason,omitempty"`
	CancelledAt   *time.Time `bun:"cancelled_at" json:"cancelled_at,omitempty"`
	ClosedAt      *time.Time `bun:"closed_at" json:"closed_at,omitempty"`
	CreatedAt     time.Time  `bun:"created_at,nullzero,notnull,default:now()" json:"-"`
	UpdatedAt     time.Time  `bun:"updated_at,nullzero,notnull,default:now()" json:"-"`

	// Counted for display, never written.
	Candidates int `bun:"candidates,scanonly" json:"candidates"`
	Results    int `bun:"results,scanonly" json:"-"`
}

// Candidate is one enrolment fixed in a sitting.
type Candidate struct {
	bun.BaseModel `bun:"table:assessment_candidates,alias:c"`

	SittingID   int64  `bun:"sitting_id,pk" json:"-"`
	EnrolmentID int64  `bun:"enrolment_id,pk" json:"enrolment_id"`
	WorkerID    int64  `bun:"worker_id,notnull" json:"worker_id"`
	During      string `bun:"during,notnull" json:"-"`
	Active      bool   `bun:"active,notnull" json:"-"`
}

// Examiner is a proctor or examiner of a sitting: a user of the provider
// or, for an outside examiner, only a name.
type Examiner struct {
	bun.BaseModel `bun:"table:assessment_examiners,alias:e"`

	ID        int64  `bun:"id,pk,autoincrement" json:"id"`
	SittingID int64  `bun:"sitting_id,notnull" json:"-"`
	UserID    int64  `bun:"user_id,nullzero" json:"user_id,omitempty"`
	Name      string `bun:"name,notnull" json:"name"`
	Role      string `bun:"role,notnull" json:"role"`
}

// Examiner roles.
const (
	RoleProctor  = "proctor"
	RoleExaminer = "examiner"
)

// Result is one candidate's result in one sitting.
type Result struct {
	bun.BaseModel `bun:"table:assessment_results,alias:r"`

	ID          int64     `bun:"id,pk,autoincrement" json:"id"`
	SittingID   int64     `bun:"sitting_id,notnull" json:"sitting_id"`
	EnrolmentID int64     `bun:"enrolment_id,notnull" json:"enrolment_id"`
	WorkerID    int64     `bun:"worker_id,notnull" json:"worker_id"`
	Score       *Score    `bun:"score,type:numeric(4,1)" json:"-"`
	Absent      bool      `bun:"absent,notnull" json:"absent"`
	Passed      bool      `bun:"passed,notnull" json:"passed"`
	RecordedBy  int64     `bun:"recorded_by,nullzero" json:"-"`
	RecordedAt  time.Time `bun:"recorded_at,nullzero,notnull,default:now()" json:"recorded_at"`
	UpdatedAt   time.Time `bun:"updated_at,nullzero,notnull,default:now()" json:"-"`
}

// ResultChange is one correction of a result.
type ResultChange struct {
	bun.BaseModel `bun:"table:assessment_result_changes,alias:rc"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	ResultID  int64     `bun:"result_id,notnull" json:"result_id"`
	OldScore  *Score    `bun:"old_score,type:numeric(4,1)" json:"-"`
	OldAbsent bool      `bun:"old_absent,notnull" json:"old_absent"`
	NewScore  *Score    `bun:"new_score,type:numeric(4,1)" json:"-"`
	NewAbsent bool      `bun:"new_absent,notnull" json:"new_absent"`
	Reason    string    `bun:"reason,notnull" json:"reason"`
	ChangedBy int64     `bun:"changed_by,nullzero" json:"-"`
	ChangedAt time.Time `bun:"changed_at,nullzero,notnull,default:now()" json:"changed_at"`
}

// Pass is an enrolment whose every part passed: what a certificate is
// issued from.
type Pass struct {
	EnrolmentID   int64     `json:"enrolment_id"`
	WorkerID      int64     `json:"worker_id"`
	ClassID       int64     `json:"class_id"`
	ProviderOrgID int64     `json:"provider_org_id"`
	PlanCode      string    `json:"plan_code"`
	PassedOn      time.Time `json:"passed_on"`
}
