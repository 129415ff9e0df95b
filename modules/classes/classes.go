// Package classes keeps classes, one provider's run of a plan: their
// creation, their life cycle (draft → open → running → completed, or
// cancelled) and the calendar job that moves them along, and the searches
// workers and staff run over them. Enrolments sit one module above: the
// steps of a class's life cycle that change enrolments (opening places the
// plan's waiting list, starting ends the class's waiting list, cancelling
// ends every place) are use cases of package enrolment, built on the steps
// this package exports.
//
// A class's enrolled and waitlisted counts are kept by a trigger on
// enrolments, and a CHECK bounds them by the capacity: an overfull class
// cannot be stored.
package classes

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
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

// States lists every state in life-cycle order, for filters.
var States = []State{StateDraft, StateOpen, StateRunning, StateCompleted, StateCancelled}

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

// Period is the daterange literal of the class's dates, both days included.
func (c Class) Period() string {
	return "[" + c.StartsOn.Format(time.DateOnly) + "," + c.EndsOn.Format(time.DateOnly) + "]"
}

// ErrNotFound is the answer for a class that does not exist or lies outside
// the caller's scope; the two look the same so IDs cannot be probed.
func ErrNotFound() *apperr.Error {
	return apperr.NotFound("class_not_found", "培训班不存在")
}

// ErrState says that c's state does not allow action (a Chinese verb).
func ErrState(c Class, action string) *apperr.Error {
	return apperr.Conflict("class_state", fmt.Sprintf("培训班当前状态为“%s”，不能%s", c.State.Label(), action)).
		With("state", string(c.State))
}

// transitions are the allowed state changes: from → to.
var transitions = map[State][]State{
	StateDraft:   {StateOpen, StateCancelled},
	StateOpen:    {StateRunning, StateCancelled},
	StateRunning: {StateCompleted, StateCancelled},
}

// Allowed reports whether a class may go from state from to state to.
func Allowed(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// verbs are the Chinese verbs of the state changes, for error messages.
var verbs = map[State]string{StateOpen: "开放报名", StateRunning: "开始培训", StateCompleted: "结业", StateCancelled: "取消"}

// CheckMove decides whether c may move to state to on day today. Errors:
// Conflict (class_state; class_started when opening after the first day;
// class_not_started when starting before it; class_not_ended when finishing
// before the last day).
func CheckMove(c Class, to State, today time.Time) error {
	if !Allowed(c.State, to) {
		return ErrState(c, verbs[to])
	}
	switch {
	case to == StateOpen && c.StartsOn.Before(today):
		return apperr.Conflict("class_started", "开班日期已过，不能再开放报名")
	case to == StateCompleted && c.EndsOn.After(today):
		return apperr.Conflict("class_not_ended", "培训班尚未到结业日期")
	case to == StateRunning && c.StartsOn.After(today):
		// Training (and so recording hours) begins on the first day, not before.
		return apperr.Conflict("class_not_started", "培训班尚未到开班日期，不能开始培训")
	}
	return nil
}

// Enrollable reports why class c takes no enrolment on day today. Errors:
// Conflict (class_not_open).
func Enrollable(c Class, today time.Time) error {
	closes := c.StartsOn
	if c.EnrolClosesOn != nil {
		closes = *c.EnrolClosesOn
	}
	switch {
	case c.State != StateOpen:
		return apperr.Conflict("class_not_open", fmt.Sprintf("培训班当前状态为“%s”，不接受报名", c.State.Label())).
			With("state", string(c.State))
	case c.EnrolOpensOn != nil && today.Before(*c.EnrolOpensOn):
		return apperr.Conflict("class_not_open", "报名尚未开始，开始日期为 "+c.EnrolOpensOn.Format(time.DateOnly))
	case today.After(closes):
		return apperr.Conflict("class_not_open", "报名已截止")
	}
	return nil
}

// Attendable refuses hours for a class whose training has not begun (draft,
// open: nobody can have attended yet, and the roster may still change) or
// was cancelled. Errors: Conflict (class_not_running).
func Attendable(c Class) error {
	if c.State == StateRunning || c.State == StateCompleted {
		return nil
	}
	return apperr.Conflict("class_not_running",
		fmt.Sprintf("培训班当前状态为“%s”，开始培训后才能登记学时", c.State.Label())).With("state", string(c.State))
}

// Input is what a provider fills in for a class.
type Input struct {
	PlanCode      string `json:"plan_code" form:"plan_code"`
	Name          string `json:"name" form:"name"`
	StartsOn      string `json:"starts_on" form:"starts_on"`
	EndsOn        string `json:"ends_on" form:"ends_on"`
	Capacity      int    `json:"capacity" form:"capacity"`
	Region        string `json:"region" form:"region"`
	Place         string `json:"place" form:"place"`
	EnrolOpensOn  string `json:"enrol_opens_on" form:"enrol_opens_on"`
	EnrolClosesOn string `json:"enrol_closes_on" form:"enrol_closes_on"`
}

func parseDate(fields *[]apperr.FieldError, field, label, s string, required bool) *time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			*fields = append(*fields, apperr.FieldError{Field: field, Code: "required", Message: "请填写" + label})
		}
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		*fields = append(*fields, apperr.FieldError{Field: field, Code: "invalid_date", Message: label + "应为 YYYY-MM-DD 格式的日期"})
		return nil
	}
	return &t
}

// validate checks in and returns the class it describes (without plan).
func (in Input) validate(today time.Time) (Class, []apperr.FieldError) {
	var fields []apperr.FieldError
	c := Class{Name: strings.TrimSpace(in.Name), Place: strings.TrimSpace(in.Place), Capacity: in.Capacity,
		RegionCode: strings.TrimSpace(in.Region), State: StateDraft}
	if c.Name == "" || utf8.RuneCountInString(c.Name) > 100 {
		fields = append(fields, apperr.FieldError{Field: "name", Code: "required", Message: "请填写班级名称（不超过100字）"})
	}
	if strings.TrimSpace(in.PlanCode) == "" {
		fields = append(fields, apperr.FieldError{Field: "plan_code", Code: "required", Message: "请选择培训计划"})
	}
	if in.Capacity < 1 || in.Capacity > 1000 {
		fields = append(fields, apperr.FieldError{Field: "capacity", Code: "invalid", Message: "班级人数应在1到1000之间"})
	}
	if len(c.RegionCode) != 6 || !strings.HasPrefix(c.RegionCode, "42") {
		fields = append(fields, apperr.FieldError{Field: "region", Code: "invalid_region", Message: "请选择湖北省内的行政区划"})
	}
	start := parseDate(&fields, "starts_on", "开班日期", in.StartsOn, true)
	end := parseDate(&fields, "ends_on", "结业日期", in.EndsOn, true)
	c.EnrolOpensOn = parseDate(&fields, "enrol_opens_on", "报名开始日期", in.EnrolOpensOn, false)
	c.EnrolClosesOn = parseDate(&fields, "enrol_closes_on", "报名截止日期", in.EnrolClosesOn, false)
	if start != nil && start.Before(today) {
		fields = append(fields, apperr.FieldError{Field: "starts_on", Code: "in_past", Message: "开班日期不能早于今天"})
	}
	if start != nil && end != nil {
		c.StartsOn, c.EndsOn = *start, *end
		if end.Before(*start) {
			fields = append(fields, apperr.FieldError{Field: "ends_on", Code: "ends_before_start", Message: "结业日期不能早于开班日期"})
		}
		if end.Sub(*start) > 366*24*time.Hour {
			fields = append(fields, apperr.FieldError{Field: "ends_on", Code: "too_long", Message: "一个培训班不能超过一年"})
		}
	}
	if c.EnrolOpensOn != nil && c.EnrolClosesOn != nil && c.EnrolClosesOn.Before(*c.EnrolOpensOn) {
		fields = append(fields, apperr.FieldError{Field: "enrol_closes_on", Code: "closes_before_opens", Message: "报名截止日期不能早于报名开始日期"})
	}
	if c.EnrolClosesOn != nil && end != nil && c.EnrolClosesOn.After(*end) {
		fields = append(fields, apperr.FieldError{Field: "enrol_closes_on", Code: "closes_after_end", Message: "报名截止日期不能晚于结业日期"})
	}
	return c, fields
}

// providerArea is the region prefix a provider may open classes in: its
// city (4201 for any of 武汉's districts), the province for a provincial
// provider, itself for a directly administered county-level unit (4290xx).
func providerArea(region string) string {
	switch {
	case len(region) != 6:
		return region
	case strings.HasSuffix(region, "0000"):
		return region[:2]
	case strings.HasPrefix(region, "4290"):
		return region
	}
	return region[:4]
}
