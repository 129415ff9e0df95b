package enrolment

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/catalog"
	"tuoyu/modules/notify"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
)

// Service holds the use cases of training delivery.
type Service struct {
	db      *bun.DB
	catalog *catalog.Service
	cipher  *pii.Cipher
	now     func() time.Time
	loc     *time.Location
}

// NewService returns the enrolment service. cipher computes the ID-number
// blind index for attendance uploads; now is the clock (time.Now in
// production) and loc the time zone whose calendar decides "today".
func NewService(db *bun.DB, cat *catalog.Service, cipher *pii.Cipher, now func() time.Time, loc *time.Location) *Service {
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return &Service{db: db, catalog: cat, cipher: cipher, now: now, loc: loc}
}

// today is the current civil date in the service's zone, as midnight UTC
// (how date columns scan).
func (s *Service) today() time.Time {
	y, m, d := s.now().In(s.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ClassInput is what a provider fills in for a class.
type ClassInput struct {
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
func (in ClassInput) validate(today time.Time) (Class, []apperr.FieldError) {
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

// CreateClass makes a class of a plan in state draft for the caller's
// organisation (a provider). Errors: apperr.Invalid (invalid_class, with
// fields: unknown plan, bad dates, a start before today, end before start,
// capacity, region).
func (s *Service) CreateClass(ctx context.Context, p *accounts.Principal, in ClassInput) (Class, error) {
	if !p.Is(accounts.RoleProvider) {
		return Class{}, apperr.Forbidden("forbidden", "只有培训机构可以开设培训班")
	}
	c, fields := in.validate(s.today())
	var out Class
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if strings.TrimSpace(in.PlanCode) != "" {
			plan, err := s.catalog.PlanByCode(ctx, tx, strings.TrimSpace(in.PlanCode))
			if apperr.Is(err, "plan_not_found") {
				fields = append(fields, apperr.FieldError{Field: "plan_code", Code: "unknown_plan", Message: "培训计划代码不存在"})
			} else if err != nil {
				return err
			}
			c.PlanID = plan.ID
		}
		if len(c.RegionCode) == 6 {
			exists, err := tx.NewSelect().Table("regions").Where("code = ?", c.RegionCode).Exists(ctx)
			if err != nil {
				return fmt.Errorf("check region %s: %w", c.RegionCode, err)
			}
			if !exists {
				fields = append(fields, apperr.FieldError{Field: "region", Code: "invalid_region", Message: "行政区划代码不存在"})
			} else if !strings.HasPrefix(c.RegionCode, providerArea(p.Region)) {
				// A class's region decides whose waiting graduates it takes in,
				// so a provider runs classes only in its own city.
				fields = append(fields, apperr.FieldError{Field: "region", Code: "region_out_of_scope", Message: "培训班须开设在本机构所在城市"})
			}
		}
		if len(fields) > 0 {
			return apperr.Invalid("invalid_class", "培训班信息填写有误", fields...)
		}
		c.ProviderOrgID, c.CreatedBy = p.OrgID, p.UserID
		_, err := tx.NewInsert().Model(&c).
			ExcludeColumn("id", "enrolled_count", "waitlisted_count", "cancel_reason", "cancelled_at", "created_at", "updated_at").
			Returning("id").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert class: %w", err)
		}
		if err := audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "classes.create", TargetType: "class",
			TargetID: strconv.FormatInt(c.ID, 10),
			Summary:  map[string]any{"plan_code": in.PlanCode, "capacity": c.Capacity, "region": c.RegionCode},
		}); err != nil {
			return err
		}
		out, err = NewStore(tx).ClassForCaller(ctx, p, c.ID)
		return err
	})
	return out, err
}

// Class returns class id if p may see it. Errors: apperr.NotFound
// (class_not_found).
func (s *Service) Class(ctx context.Context, p *accounts.Principal, id int64) (Class, error) {
	return NewStore(s.db).ClassForCaller(ctx, p, id)
}

// Classes lists the classes p may see, matching f.
func (s *Service) Classes(ctx context.Context, p *accounts.Principal, f ClassFilter) ([]Class, int, error) {
	f.OnlyOpen = false
	return NewStore(s.db).Classes(ctx, p, f)
}

// OpenClasses lists classes any worker may enrol in today, matching f
// (city, plan, dates); remaining places are Capacity − EnrolledCount.
func (s *Service) OpenClasses(ctx context.Context, f ClassFilter) ([]Class, int, error) {
	f.OnlyOpen, f.Today = true, s.today()
	return NewStore(s.db).Classes(ctx, nil, f)
}

// ownClass locks class id for a change by p: the provider that runs it or
// an admin. Others get apperr.NotFound, as if it did not exist.
func (s *Service) ownClass(ctx context.Context, tx bun.Tx, p *accounts.Principal, id int64) (Class, error) {
	c, err := NewStore(tx).LockClass(ctx, id)
	if err != nil {
		return Class{}, err
	}
	if !p.Is(accounts.RoleAdmin) && !(p.Is(accounts.RoleProvider) && c.ProviderOrgID == p.OrgID) {
		return Class{}, errClassNotFound()
	}
	return c, nil
}

func errState(c Class, action string) *apperr.Error {
	return apperr.Conflict("class_state", fmt.Sprintf("培训班当前状态为“%s”，不能%s", c.State.Label(), action)).
		With("state", string(c.State))
}

// transitions are the allowed state changes: from → to.
var transitions = map[State][]State{
	StateDraft:   {StateOpen, StateCancelled},
	StateOpen:    {StateRunning, StateCancelled},
	StateRunning: {StateCompleted, StateCancelled},
}

func allowed(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Open opens a draft class for enrolment and places workers from the
// plan's waiting list whose college lies in or above the class's region,
// oldest first, as far as places go. Errors: apperr.NotFound
// (class_not_found), apperr.Conflict (class_state; class_started when its
// first day has passed).
func (s *Service) Open(ctx context.Context, p *accounts.Principal, id int64) (Class, error) {
	var out Class
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.ownClass(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !allowed(c.State, StateOpen) {
			return errState(c, "开放报名")
		}
		if c.StartsOn.Before(s.today()) {
			return apperr.Conflict("class_started", "开班日期已过，不能再开放报名")
		}
		if err := s.setState(ctx, tx, &c, StateOpen); err != nil {
			return err
		}
		placed, err := s.placeFromPlanWaitlist(ctx, tx, c)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "classes.open", TargetType: "class",
			TargetID: strconv.FormatInt(c.ID, 10), Summary: map[string]any{"placed_from_plan_waitlist": placed},
		}); err != nil {
			return err
		}
		out, err = NewStore(tx).ClassForCaller(ctx, p, id)
		return err
	})
	return out, err
}

// Start marks an open class as running (its training has begun): no more
// enrolments or withdrawals. Errors as Open.
func (s *Service) Start(ctx context.Context, p *accounts.Principal, id int64) (Class, error) {
	return s.move(ctx, p, id, StateRunning, "开始培训", "classes.start")
}

// Finish marks a running class as completed. Errors as Open.
func (s *Service) Finish(ctx context.Context, p *accounts.Principal, id int64) (Class, error) {
	return s.move(ctx, p, id, StateCompleted, "结业", "classes.finish")
}

func (s *Service) move(ctx context.Context, p *accounts.Principal, id int64, to State, verb, action string) (Class, error) {
	var out Class
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.ownClass(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !allowed(c.State, to) {
			return errState(c, verb)
		}
		if to == StateCompleted && c.EndsOn.After(s.today()) {
			return apperr.Conflict("class_not_ended", "培训班尚未到结业日期")
		}
		// Training (and so recording hours) begins on the first day, not before.
		if to == StateRunning && c.StartsOn.After(s.today()) {
			return apperr.Conflict("class_not_started", "培训班尚未到开班日期，不能开始培训")
		}
		from := c.State
		if err := s.setState(ctx, tx, &c, to); err != nil {
			return err
		}
		if to == StateRunning {
			// Nobody is promoted once training runs: the waiting list ends.
			if _, err := tx.NewUpdate().Table("enrolments").Set("status = 'cancelled', position = NULL, updated_at = now()").
				Where("class_id = ? AND status = 'waitlisted'", id).Exec(ctx); err != nil {
				return fmt.Errorf("close waiting list of class %d: %w", id, err)
			}
		}
		if err := audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: action, TargetType: "class",
			TargetID: strconv.FormatInt(id, 10), Summary: map[string]any{"from": string(from), "to": string(to)},
		}); err != nil {
			return err
		}
		out, err = NewStore(tx).ClassForCaller(ctx, p, id)
		return err
	})
	return out, err
}

func (s *Service) setState(ctx context.Context, tx bun.Tx, c *Class, to State) error {
	c.State = to
	q := tx.NewUpdate().Model(c).Column("state").Set("updated_at = now()").WherePK()
	if to == StateCancelled {
		q = q.Column("cancel_reason").Set("cancelled_at = now()")
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("set class %d state %s: %w", c.ID, to, err)
	}
	return nil
}

// Cancellation is the result of cancelling a class: the workers whose
// enrolment it ended, to be told.
type Cancellation struct {
	Class    Class   `json:"class"`
	Notified []int64 `json:"affected_worker_ids"`
}

// Cancel cancels a class that has not completed: every enrolled and
// waitlisted worker's enrolment becomes cancelled, and the audit event
// lists them. (There is no notification module yet; the affected workers
// are returned and recorded so a notice can be sent from the audit trail.)
// Errors: apperr.NotFound (class_not_found), apperr.Conflict (class_state),
// apperr.Invalid (reason_required).
func (s *Service) Cancel(ctx context.Context, p *accounts.Principal, id int64, reason string) (Cancellation, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Cancellation{}, apperr.Invalid("reason_required", "请填写取消原因",
			apperr.FieldError{Field: "reason", Code: "required", Message: "请填写取消原因"})
	}
	var out Cancellation
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.ownClass(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !allowed(c.State, StateCancelled) {
			return errState(c, "取消")
		}
		var affected []int64
		err = tx.NewUpdate().Table("enrolments").
			Set("status = 'cancelled', position = NULL, completed_on = NULL, updated_at = now()").
			Where("class_id = ? AND status IN ('enrolled', 'waitlisted', 'completed')", id).
			Returning("worker_id").Scan(ctx, &affected)
		if err != nil {
			return fmt.Errorf("cancel enrolments of class %d: %w", id, err)
		}
		c.CancelReason = reason
		if err := s.setState(ctx, tx, &c, StateCancelled); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "classes.cancel", TargetType: "class",
			TargetID: strconv.FormatInt(id, 10),
			Summary:  map[string]any{"reason": reason, "affected_worker_ids": affected},
		}); err != nil {
			return err
		}
		msgs := make([]notify.Message, 0, len(affected))
		for _, w := range affected {
			msgs = append(msgs, notify.Message{WorkerID: w, Kind: "classes.cancelled",
				Title: "培训班已取消：" + c.Name, Body: "取消原因：" + reason + "。如需培训，请另选培训班报名。",
				Link: "/classes/search", DedupeKey: fmt.Sprintf("classes.cancelled:%d:%d", id, w)})
		}
		if err := notify.Send(ctx, tx, msgs...); err != nil {
			return err
		}
		out.Notified = affected
		out.Class, err = NewStore(tx).ClassForCaller(ctx, p, id)
		return err
	})
	return out, err
}

// Enrol enrols a worker in class classID: a worker enrols themself
// (workerID is ignored), a provider enrols workerID in one of its own
// classes. A provider may name by ID only a worker already in its scope
// (registered by it, or holding a place in one of its classes): otherwise
// any provider could pull any worker into its scope, and with it read and
// edit their record. A person not yet in scope is enrolled by the full ID
// number instead (EnrolByIDNumber). A full class puts the worker on its
// waiting list. Errors: apperr.NotFound (class_not_found, worker_not_found
// also for a worker outside the provider's scope), apperr.Conflict
// (class_not_open, already_enrolled, class_overlap), apperr.Forbidden
// (banned; forbidden for other roles).
func (s *Service) Enrol(ctx context.Context, p *accounts.Principal, classID, workerID int64) (Enrolment, error) {
	if p.Is(accounts.RoleProvider) && workerID <= 0 {
		return Enrolment{}, apperr.Invalid("invalid_enrolment", "请指定学员",
			apperr.FieldError{Field: "id_number", Code: "required", Message: "请填写要报名学员的身份证号"})
	}
	return s.enrolAs(ctx, p, classID, target{workerID: workerID})
}

// EnrolByIDNumber enrols, in one of the provider's own classes, the
// registered worker with the full resident ID number idNumber. Knowing the
// whole number (the person is in front of the provider) is the proof that
// lets a provider enrol someone it has not met before; after that the
// worker is in its scope. Errors: apperr.Invalid (id_* codes on field
// id_number), apperr.NotFound (class_not_found; worker_not_found when no
// worker has this number), and those of Enrol.
func (s *Service) EnrolByIDNumber(ctx context.Context, p *accounts.Principal, classID int64, idNumber string) (Enrolment, error) {
	if !p.Is(accounts.RoleProvider) {
		return Enrolment{}, apperr.Forbidden("forbidden", "只有培训机构可以按身份证号为学员报名")
	}
	number, err := lookupNumber(idNumber, s.now())
	if err != nil {
		return Enrolment{}, err
	}
	return s.enrolAs(ctx, p, classID, target{idNumberIdx: s.cipher.Index(pii.KindIDNumber, number)})
}

// lookupNumber checks an ID number typed to find a worker. The age limits of
// registration do not apply: a registered worker may have aged past them.
func lookupNumber(raw string, now time.Time) (string, error) {
	id, err := workers.ValidateID(raw, now)
	if apperr.Is(err, workers.CodeIDAge) {
		return workers.NormalizeID(raw), nil
	}
	if err != nil {
		return "", err
	}
	return id.Number, nil
}

// target names the worker an enrolment request is about.
type target struct {
	workerID    int64
	idNumberIdx []byte // the blind index of a full ID number; wins over workerID
	// trusted skips the provider's scope check: only the demo seed, which
	// replays providers enrolling the people in front of them.
	trusted bool
}

func errWorkerNotFound() *apperr.Error {
	return apperr.NotFound("worker_not_found", "未找到该学员：请核对身份证号，或先登记学员信息")
}

// enrolAs is Enrol and EnrolByIDNumber once the worker is named.
func (s *Service) enrolAs(ctx context.Context, p *accounts.Principal, classID int64, t target) (Enrolment, error) {
	source := SourceProvider
	switch {
	case p.Is(accounts.RoleWorker):
		t, source = target{workerID: p.WorkerID}, SourceSelf
	case p.Is(accounts.RoleProvider):
	default:
		return Enrolment{}, apperr.Forbidden("forbidden", "只有学员本人或培训机构可以报名")
	}
	var out Enrolment
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		workerID := t.workerID
		switch {
		case t.idNumberIdx != nil:
			w, err := workers.NewStore(tx).ByIDNumberIdx(ctx, t.idNumberIdx)
			if apperr.Is(err, "worker_not_found") {
				return errWorkerNotFound()
			}
			if err != nil {
				return err
			}
			workerID = w.ID
		case source == SourceProvider && !t.trusted:
			// The same answer for a worker outside the scope as for none,
			// so worker IDs cannot be probed.
			if _, err := workers.NewStore(tx).ByID(ctx, p, workerID); apperr.Is(err, "worker_not_found") {
				return errWorkerNotFound()
			} else if err != nil {
				return err
			}
		}
		// The worker's row is locked before the class's, the same order as a
		// roster commit (workers, then EnrolFromRoster), so the two never
		// deadlock.
		banned, err := st.WorkerBanned(ctx, workerID)
		if err != nil {
			return err
		}
		c, err := st.LockClass(ctx, classID)
		if err != nil {
			return err
		}
		// A provider sees only its own classes; a worker sees every class
		// but drafts, so a closed class answers class_not_open, not 404.
		if source == SourceProvider && c.ProviderOrgID != p.OrgID || source == SourceSelf && c.State == StateDraft {
			return errClassNotFound()
		}
		if banned {
			return apperr.Forbidden("banned", "该人员已被列入托育从业禁止名单，不能报名")
		}
		e, err := s.enrol(ctx, tx, c, workerID, source, p.UserID, 0)
		if err != nil {
			return err
		}
		out = e
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "enrolments.create", TargetType: "enrolment",
			TargetID: strconv.FormatInt(e.ID, 10),
			Summary: map[string]any{"class_id": c.ID, "worker_id": workerID, "status": string(e.Status), "source": string(source),
				"by_id_number": t.idNumberIdx != nil},
		})
	})
	return out, err
}

// enrollable reports why class c takes no enrolment today, or nil.
func (s *Service) enrollable(c Class) error {
	today := s.today()
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

// enrol puts workerID into locked class c: enrolled while places remain,
// else at the end of its waiting list. The caller holds the class lock and
// has checked the ban.
func (s *Service) enrol(ctx context.Context, tx bun.Tx, c Class, workerID int64, source Source, by int64, rosterImportID int64) (Enrolment, error) {
	st := NewStore(tx)
	if err := s.enrollable(c); err != nil {
		return Enrolment{}, err
	}
	prev, err := st.EnrolmentOf(ctx, workerID, c.ID)
	if err != nil {
		return Enrolment{}, err
	}
	if prev != nil && prev.Status.Active() {
		// "status" is the problem document's HTTP status (RFC 9457), hence
		// enrolment_status.
		return Enrolment{}, errAlreadyEnrolled().With("enrolment_id", prev.ID).With("enrolment_status", string(prev.Status))
	}
	// A place on a waiting list counts as much as a seat (so does the
	// exclusion constraint, which sees waitlisted rows): a waiting worker may
	// be promoted at any moment, and must then be free on those dates.
	overlap, err := st.Overlaps(ctx, workerID, c.ID, c.StartsOn, c.EndsOn)
	if err != nil {
		return Enrolment{}, err
	}
	if overlap {
		return Enrolment{}, errOverlap()
	}
	versionID, err := s.catalog.UseCurrentVersion(ctx, tx, c.PlanID)
	if err != nil {
		return Enrolment{}, err
	}
	e := Enrolment{ClassID: c.ID, WorkerID: workerID, PlanVersionID: versionID, Status: StatusEnrolled,
		Source: source, Period: period(c), RosterImportID: rosterImportID, CreatedBy: by}
	if c.EnrolledCount >= c.Capacity {
		pos, err := st.NextPosition(ctx, c.ID)
		if err != nil {
			return Enrolment{}, err
		}
		e.Status, e.Position = StatusWaitlisted, &pos
	}
	if prev != nil {
		// A worker who withdrew may come back: the row is reused, since a
		// worker has one enrolment per class.
		e.ID = prev.ID
		_, err = tx.NewUpdate().Model(&e).
			Column("plan_version_id", "status", "source", "position", "roster_import_id", "created_by").
			Set("completed_on = NULL, withdrawn_at = NULL, updated_at = now()").WherePK().Exec(ctx)
	} else {
		_, err = tx.NewInsert().Model(&e).
			ExcludeColumn("id", "completed_on", "withdrawn_at", "created_at", "updated_at").Returning("id").Exec(ctx)
	}
	if err != nil {
		return Enrolment{}, fmt.Errorf("enrol worker %d in class %d: %w", workerID, c.ID, translate(err))
	}
	return e, nil
}

// Withdraw takes an enrolment out of its class before the class starts:
// the worker themself or the class's provider. The first worker on the
// waiting list (who is not banned) takes the freed place in the same
// transaction. Errors: apperr.NotFound (enrolment_not_found),
// apperr.Conflict (class_started, not_enrolled).
func (s *Service) Withdraw(ctx context.Context, p *accounts.Principal, enrolmentID int64) (Enrolment, error) {
	var out Enrolment
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		var classID int64
		err := tx.NewSelect().Table("enrolments").Column("class_id").Where("id = ?", enrolmentID).Scan(ctx, &classID)
		if err != nil {
			if isNoRows(err) {
				return errEnrolmentNotFound()
			}
			return fmt.Errorf("class of enrolment %d: %w", enrolmentID, err)
		}
		c, err := st.LockClass(ctx, classID)
		if err != nil {
			return err
		}
		e, err := st.LockEnrolment(ctx, enrolmentID)
		if err != nil {
			return err
		}
		mine := p.Is(accounts.RoleWorker) && e.WorkerID == p.WorkerID ||
			p.Is(accounts.RoleProvider) && c.ProviderOrgID == p.OrgID || p.Is(accounts.RoleAdmin)
		if !mine {
			return errEnrolmentNotFound()
		}
		if e.Status != StatusEnrolled && e.Status != StatusWaitlisted {
			return apperr.Conflict("not_enrolled", "该报名已不在班级中（"+e.Status.Label()+"）")
		}
		if c.State != StateOpen || !s.today().Before(c.StartsOn) {
			return apperr.Conflict("class_started", "培训班已开始或已结束，不能退出")
		}
		was := e.Status
		e.Status, e.Position = StatusWithdrawn, nil
		if _, err := tx.NewUpdate().Model(&e).Column("status", "position").
			Set("withdrawn_at = now(), updated_at = now()").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("withdraw enrolment %d: %w", e.ID, err)
		}
		var promoted int64
		if was == StatusEnrolled {
			if promoted, err = s.promote(ctx, tx, c.ID); err != nil {
				return err
			}
		}
		out = e
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "enrolments.withdraw", TargetType: "enrolment",
			TargetID: strconv.FormatInt(e.ID, 10),
			Summary:  map[string]any{"class_id": c.ID, "worker_id": e.WorkerID, "was": string(was), "promoted_enrolment_id": promoted},
		})
	})
	return out, err
}

// promote moves the first waitlisted, unbanned worker of class classID into
// the freed place; the caller holds the class lock. It returns the promoted
// enrolment's ID, or 0 when nobody waits.
func (s *Service) promote(ctx context.Context, tx bun.Tx, classID int64) (int64, error) {
	var id int64
	err := tx.NewSelect().TableExpr("enrolments AS e").Column("e.id").
		Join("JOIN workers AS w ON w.id = e.worker_id").
		Where("e.class_id = ? AND e.status = 'waitlisted' AND NOT w.banned", classID).
		OrderExpr("e.position").Limit(1).Scan(ctx, &id)
	if isNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("first waiting in class %d: %w", classID, err)
	}
	_, err = tx.NewUpdate().Table("enrolments").Set("status = 'enrolled', position = NULL, updated_at = now()").
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("promote enrolment %d: %w", id, translate(err))
	}
	return id, nil
}

// Now returns the service's clock.
func (s *Service) Now() func() time.Time { return s.now }

// Advance moves classes along the calendar, as the classes.advance job does
// every night: open classes whose first day has come start running (their
// waiting lists end, as when a provider starts them by hand), and running
// classes whose last day has passed are completed. It returns the classes it
// started and completed. Providers may still do both earlier by hand.
func (s *Service) Advance(ctx context.Context) (started, completed []int64, err error) {
	today := s.today()
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		started, completed = nil, nil
		err := tx.NewRaw(`UPDATE classes SET state = 'running', updated_at = now()
			WHERE state = 'open' AND starts_on <= ? RETURNING id`, today).Scan(ctx, &started)
		if err != nil {
			return fmt.Errorf("start classes: %w", err)
		}
		if len(started) > 0 {
			if _, err := tx.NewUpdate().Table("enrolments").Set("status = 'cancelled', position = NULL, updated_at = now()").
				Where("class_id IN (?) AND status = 'waitlisted'", bun.In(started)).Exec(ctx); err != nil {
				return fmt.Errorf("close waiting lists: %w", err)
			}
		}
		err = tx.NewRaw(`UPDATE classes SET state = 'completed', updated_at = now()
			WHERE state = 'running' AND ends_on < ? RETURNING id`, today).Scan(ctx, &completed)
		if err != nil {
			return fmt.Errorf("complete classes: %w", err)
		}
		for _, m := range []struct {
			ids    []int64
			action string
			from   State
			to     State
		}{{started, "classes.start", StateOpen, StateRunning}, {completed, "classes.finish", StateRunning, StateCompleted}} {
			for _, id := range m.ids {
				if err := audit.Record(ctx, tx, audit.Event{ActorLabel: "scheduler", Action: m.action, TargetType: "class",
					TargetID: strconv.FormatInt(id, 10), Summary: map[string]any{"from": string(m.from), "to": string(m.to), "by": "calendar"}}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return started, completed, err
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
