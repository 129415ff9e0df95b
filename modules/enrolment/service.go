package enrolment

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
)

// Service holds the use cases of enrolment.
type Service struct {
	db      *bun.DB
	classes *classes.Service
	catalog *catalog.Service
	cipher  *pii.Cipher
}

// NewService returns the enrolment service. cipher computes the ID-number
// blind index of a provider's enrolment by ID number; the classes
// service's clock and zone decide "today".
func NewService(db *bun.DB, cls *classes.Service, cat *catalog.Service, cipher *pii.Cipher) *Service {
	return &Service{db: db, classes: cls, catalog: cat, cipher: cipher}
}

// At returns a copy of the service whose clock reads t (the demo world is
// built in the past through the same use cases as production).
func (s *Service) At(t time.Time) *Service {
	c := *s
	c.classes = s.classes.At(t)
	return &c
}

func (s *Service) today() time.Time { return s.classes.Today() }

// Enrol enrols a worker in class classID: a worker enrols themself
// (workerID is ignored), a provider enrols workerID in one of its own
// classes. A provider may name by ID only a worker already in its scope
// (registered by it, or holding a place in one of its classes): otherwise
// any provider could pull any worker into its scope, and with it read and
// edit their record. A person not yet in scope is enrolled by the full ID
// number instead (EnrolByIDNumber). A full class puts the worker on its
// waiting list. Errors: Invalid (invalid_enrolment), NotFound
// (class_not_found; worker_not_found, also for a worker outside the
// provider's scope), Conflict (class_not_open, already_enrolled,
// class_overlap, class_full), Forbidden (banned, a worker enrolling
// themself; forbidden for other roles), Invalid (not_registrable: a provider
// naming a banned person learns only that, never the word ban).
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
// worker is in its scope. Errors: Forbidden (forbidden for other roles),
// Invalid (id_* codes on field id_number), NotFound (class_not_found;
// worker_not_found when no worker has this number), and those of Enrol.
func (s *Service) EnrolByIDNumber(ctx context.Context, p *accounts.Principal, classID int64, idNumber string) (Enrolment, error) {
	if !p.Is(accounts.RoleProvider) {
		return Enrolment{}, apperr.Forbidden("forbidden", "只有培训机构可以按身份证号为学员报名")
	}
	number, err := lookupNumber(idNumber, s.classes.Now()())
	if err != nil {
		return Enrolment{}, err
	}
	return s.enrolAs(ctx, p, classID, target{idNumberIdx: s.cipher.Index(pii.KindIDNumber, number)})
}

// EnrolInput is the body of an enrolment: {} by a worker for themself; by
// a provider either {"worker_id"} of a worker in its scope or
// {"id_number"} of a registered person it has in front of it.
type EnrolInput struct {
	WorkerID int64  `json:"worker_id"`
	IDNumber string `json:"id_number"`
}

// EnrolRequest runs Enrol or EnrolByIDNumber, whichever in names. Errors:
// Invalid (invalid_enrolment when it names both), and those of Enrol and
// EnrolByIDNumber.
func (s *Service) EnrolRequest(ctx context.Context, p *accounts.Principal, classID int64, in EnrolInput) (Enrolment, error) {
	if strings.TrimSpace(in.IDNumber) == "" {
		return s.Enrol(ctx, p, classID, in.WorkerID)
	}
	if in.WorkerID != 0 {
		return Enrolment{}, apperr.Invalid("invalid_enrolment", "请只填写学员编号或身份证号中的一项",
			apperr.FieldError{Field: "id_number", Code: "one_of", Message: "worker_id 与 id_number 只能填写一项"})
	}
	return s.EnrolByIDNumber(ctx, p, classID, in.IDNumber)
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
}

func errWorkerNotFound() *apperr.Error {
	return apperr.NotFound("worker_not_found", "未找到该学员：请核对身份证号，或先登记学员信息")
}

// resolve finds the worker t names for p: by ID number, or by ID inside a
// provider's scope (the same answer for a worker outside it as for none,
// so worker IDs cannot be probed).
func resolve(ctx context.Context, tx bun.IDB, p *accounts.Principal, t target, source Source) (int64, error) {
	switch {
	case t.idNumberIdx != nil:
		w, err := workers.NewStore(tx).ByIDNumberIdx(ctx, t.idNumberIdx)
		if apperr.Is(err, "worker_not_found") {
			return 0, errWorkerNotFound()
		}
		if err != nil {
			return 0, err
		}
		return w.ID, nil
	case source == SourceProvider:
		if _, err := workers.NewStore(tx).ByID(ctx, p, t.workerID); apperr.Is(err, "worker_not_found") {
			return 0, errWorkerNotFound()
		} else if err != nil {
			return 0, err
		}
	}
	return t.workerID, nil
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
	refused := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		workerID, err := resolve(ctx, tx, p, t, source)
		if err != nil {
			return err
		}
		// The worker's row is locked before the class's, the same order as a
		// roster commit (workers, then EnrolFromRoster), so the two never
		// deadlock.
		banned, err := workers.NewStore(tx).LockForEnrolment(ctx, workerID)
		if err != nil {
			return err
		}
		c, err := classes.NewStore(tx).Lock(ctx, classID)
		if err != nil {
			return err
		}
		// A provider sees only its own classes; a worker sees every class
		// but drafts, so a closed class answers class_not_open, not 404.
		if source == SourceProvider && c.ProviderOrgID != p.OrgID || source == SourceSelf && c.State == classes.StateDraft {
			return classes.ErrNotFound()
		}
		if banned && source == SourceProvider {
			// The provider learns only that the person cannot be
			// registered, as a college does for a roster row; the attempt
			// is kept (committed) for the regulator, the provider as actor.
			refused = true
			return audit.Record(ctx, tx, audit.Event{
				ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "enrolments.not_registrable", TargetType: "class",
				TargetID: strconv.FormatInt(c.ID, 10),
				Summary:  map[string]any{"worker_id": workerID, "reason": "banned", "by_id_number": t.idNumberIdx != nil},
			})
		}
		if banned {
			return errBanned()
		}
		e, err := s.place(ctx, tx, c, workerID, source, p.UserID, 0)
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
	if err == nil && refused {
		return Enrolment{}, errNotRegistrable()
	}
	return out, err
}

// place puts workerID into locked class c: enrolled while places remain,
// else at the end of its waiting list, and links the worker to the class's
// provider. The caller holds the class lock and has checked the ban.
func (s *Service) place(ctx context.Context, tx bun.IDB, c classes.Class, workerID int64, source Source, by int64, rosterImportID int64) (Enrolment, error) {
	st := NewStore(tx)
	if err := classes.Enrollable(c, s.today()); err != nil {
		return Enrolment{}, err
	}
	prev, err := st.Of(ctx, workerID, c.ID)
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
		Source: source, Period: c.Period(), RosterImportID: rosterImportID, CreatedBy: by}
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
		err = st.Reuse(ctx, &e)
	} else {
		err = st.Insert(ctx, &e)
	}
	if err != nil {
		return Enrolment{}, err
	}
	return e, workers.NewStore(tx).AddProviderPlace(ctx, c.ProviderOrgID, workerID)
}

// Withdraw takes an enrolment out of its class before the class starts:
// the worker themself or the class's provider. The first worker on the
// waiting list (who is not banned) takes the freed place in the same
// transaction. Errors: NotFound (enrolment_not_found), Conflict
// (class_started, not_enrolled).
func (s *Service) Withdraw(ctx context.Context, p *accounts.Principal, enrolmentID int64) (Enrolment, error) {
	var out Enrolment
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		classID, err := st.ClassOf(ctx, enrolmentID)
		if err != nil {
			return err
		}
		c, err := classes.NewStore(tx).Lock(ctx, classID)
		if err != nil {
			return err
		}
		e, err := st.Lock(ctx, enrolmentID)
		if err != nil {
			return err
		}
		if err := s.checkWithdraw(p, c, e); err != nil {
			return err
		}
		was := e.Status
		promoted, err := leave(ctx, tx, c, &e)
		if err != nil {
			return err
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

// checkWithdraw decides whether p may withdraw e from class c now.
func (s *Service) checkWithdraw(p *accounts.Principal, c classes.Class, e Enrolment) error {
	mine := p.Is(accounts.RoleWorker) && e.WorkerID == p.WorkerID ||
		p.Is(accounts.RoleProvider) && c.ProviderOrgID == p.OrgID || p.Is(accounts.RoleAdmin)
	switch {
	case !mine:
		return errNotFound()
	case e.Status != StatusEnrolled && e.Status != StatusWaitlisted:
		return apperr.Conflict("not_enrolled", "该报名已不在班级中（"+e.Status.Label()+"）")
	case c.State != classes.StateOpen || !s.today().Before(c.StartsOn):
		return apperr.Conflict("class_started", "培训班已开始或已结束，不能退出")
	}
	return nil
}

// leave withdraws e from class c (locked by the caller): its provider link
// goes, the first on the waiting list takes a freed place, and the waiting
// list is numbered 1, 2, 3 … again. It returns the promoted enrolment's ID,
// or 0.
func leave(ctx context.Context, tx bun.IDB, c classes.Class, e *Enrolment) (int64, error) {
	st := NewStore(tx)
	was := e.Status
	if err := st.SetWithdrawn(ctx, e); err != nil {
		return 0, err
	}
	if err := workers.NewStore(tx).RemoveProviderPlaces(ctx, c.ProviderOrgID, []int64{e.WorkerID}); err != nil {
		return 0, err
	}
	var promoted int64
	if was == StatusEnrolled {
		var err error
		if promoted, err = promote(ctx, tx, c.ID); err != nil {
			return 0, err
		}
	}
	return promoted, st.Renumber(ctx, c.ID)
}

// promote moves the first waitlisted, unbanned worker of class classID into
// the freed place; the caller holds the class lock. It returns the promoted
// enrolment's ID, or 0 when nobody waits.
func promote(ctx context.Context, tx bun.IDB, classID int64) (int64, error) {
	st := NewStore(tx)
	id, err := st.FirstWaiting(ctx, classID)
	if err != nil || id == 0 {
		return 0, err
	}
	return id, st.Promote(ctx, id)
}
