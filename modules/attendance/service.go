package attendance

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/pii"
)

// Service holds the use cases of attendance and progress.
type Service struct {
	db        *bun.DB
	classes   *classes.Service
	enrolment *enrolment.Service
	catalog   *catalog.Service
	cipher    *pii.Cipher
}

// NewService returns the attendance service. cipher computes the ID-number
// blind index of attendance uploads; the classes service's clock decides
// the completion date.
func NewService(db *bun.DB, cls *classes.Service, enr *enrolment.Service, cat *catalog.Service, cipher *pii.Cipher) *Service {
	return &Service{db: db, classes: cls, enrolment: enr, catalog: cat, cipher: cipher}
}

// At returns a copy of the service whose clock reads t (the demo world's
// hours are recorded on the days they were attended).
func (s *Service) At(t time.Time) *Service {
	c := *s
	c.classes, c.enrolment = s.classes.At(t), s.enrolment.At(t)
	return &c
}

// Record stores entries for class classID, all or nothing, and recomputes
// completion of every enrolment touched in the same transaction. Only the
// class's provider (or an admin) may record, and only once the class is
// running or completed; source is SourceForm or SourceCSV. Errors:
// NotFound (class_not_found), Conflict (class_not_running), Invalid
// (attendance_invalid with one error per bad row: not_enrolled,
// unknown_course, negative, hours_over_limit, reason_required, duplicate).
func (s *Service) Record(ctx context.Context, p *accounts.Principal, classID int64, entries []Entry, source string) (Result, error) {
	var res Result
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.classes.Own(ctx, tx, p, classID)
		if err != nil {
			return err
		}
		if err := classes.Attendable(c); err != nil {
			return err
		}
		seats, err := enrolment.NewStore(tx).Seats(ctx, c.ID)
		if err != nil {
			return err
		}
		res, err = s.record(ctx, tx, p, c, seats, entries, source)
		return err
	})
	return res, err
}

// record is Record inside its transaction, once the class is locked and
// its enrolments (seats) loaded: load, decide, save, recompute, audit.
func (s *Service) record(ctx context.Context, tx bun.IDB, p *accounts.Principal, c classes.Class, seats map[int64]enrolment.Seat, entries []Entry, source string) (Result, error) {
	if len(entries) == 0 {
		return Result{}, apperr.Invalid("attendance_invalid", "没有要登记的学时")
	}
	versions, stored, err := s.load(ctx, tx, seats)
	if err != nil {
		return Result{}, err
	}
	d := decide(entries, seats, versions, stored)
	if len(d.fields) > 0 {
		return Result{}, apperr.Invalid("attendance_invalid",
			fmt.Sprintf("有 %d 行学时记录有误，全部未保存", len(d.fields)), d.fields...)
	}
	res := Result{Unchanged: d.unchanged}
	if len(d.writes) == 0 {
		return res, nil
	}
	if err := NewStore(tx).Save(ctx, d.writes, source, p.UserID); err != nil {
		return Result{}, fmt.Errorf("class %d: %w", c.ID, err)
	}
	touched := map[int64]bool{}
	var corrections []map[string]any
	for _, w := range d.writes {
		touched[w.EnrolmentID] = true
		if w.Old != nil {
			corrections = append(corrections, map[string]any{"enrolment_id": w.EnrolmentID, "course_id": w.CourseID,
				"from": w.Old.String(), "to": w.Hours.String(), "reason": w.Reason})
		}
	}
	res.Changed = len(d.writes)
	if res.Completed, res.Reopened, err = s.recompute(ctx, tx, keys(touched), seats, versions); err != nil {
		return Result{}, err
	}
	return res, audit.Record(ctx, tx, audit.Event{
		ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "attendance.record", TargetType: "class",
		TargetID: strconv.FormatInt(c.ID, 10),
		Summary: map[string]any{"source": source, "changed": res.Changed, "corrections": corrections,
			"completed": res.Completed, "reopened": res.Reopened},
	})
}

// load reads the plan versions of the class's enrolments and the hours
// stored for them.
func (s *Service) load(ctx context.Context, tx bun.IDB, seats map[int64]enrolment.Seat) (map[int64]catalog.PlanVersion, map[Key]Stored, error) {
	versionIDs := map[int64]bool{}
	enIDs := make([]int64, 0, len(seats))
	for _, e := range seats {
		versionIDs[e.PlanVersionID] = true
		enIDs = append(enIDs, e.ID)
	}
	versions, err := s.catalog.Versions(ctx, tx, keys(versionIDs))
	if err != nil {
		return nil, nil, err
	}
	stored, err := NewStore(tx).HoursOf(ctx, enIDs)
	return versions, stored, err
}

// recompute decides completion of the given enrolments from their stored
// hours against their own plan versions and writes the status changes:
// enrolled → completed (dated today) when complete, completed → enrolled
// when a correction takes the hours away.
func (s *Service) recompute(ctx context.Context, tx bun.IDB, ids []int64, seats map[int64]enrolment.Seat, versions map[int64]catalog.PlanVersion) (completed, reopened []int64, err error) {
	stored, err := NewStore(tx).HoursOf(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	completed, reopened = completions(ids, seats, versions, stored)
	st := enrolment.NewStore(tx)
	if err := st.SetCompleted(ctx, completed, s.classes.Today()); err != nil {
		return nil, nil, err
	}
	if err := st.Reopen(ctx, reopened); err != nil {
		return nil, nil, err
	}
	return completed, reopened, nil
}
