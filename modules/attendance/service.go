package attendance

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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
	outcomes  OutcomeFunc // assessment outcomes on the graduates' progress; nil until wired
	// onComplete hears of enrolments completed by their hours; nil until wired
	onComplete CompletionFunc
}

// NewService returns the attendance service. cipher computes the ID-number
// blind index of sign-in sheets; the classes service's clock decides today
// (the latest lesson date) and the completion date.
func NewService(db *bun.DB, cls *classes.Service, enr *enrolment.Service, cat *catalog.Service, cipher *pii.Cipher) *Service {
	return &Service{db: db, classes: cls, enrolment: enr, catalog: cat, cipher: cipher}
}

// At returns a copy of the service whose clock reads t (the demo world's
// lessons are recorded on the days they were held).
func (s *Service) At(t time.Time) *Service {
	c := *s
	c.classes, c.enrolment = s.classes.At(t), s.enrolment.At(t)
	return &c
}

// classLessons is what recording lessons in one class needs, loaded once
// inside the transaction that locks the class.
type classLessons struct {
	class    classes.Class
	seats    map[int64]enrolment.Seat
	versions map[int64]catalog.PlanVersion
	courses  map[string]catalog.Course
	byID     map[int64]catalog.Course
}

// open locks class classID for p (its provider or an admin), checks it
// takes attendance and loads its enrolments, their plan versions and the
// courses.
func (s *Service) open(ctx context.Context, tx bun.IDB, p *accounts.Principal, classID int64) (classLessons, error) {
	c, err := s.classes.Own(ctx, tx, p, classID)
	if err != nil {
		return classLessons{}, err
	}
	if err := classes.Attendable(c); err != nil {
		return classLessons{}, err
	}
	seats, err := enrolment.NewStore(tx).Seats(ctx, c.ID)
	if err != nil {
		return classLessons{}, err
	}
	versions, err := s.versionsOf(ctx, tx, seats)
	if err != nil {
		return classLessons{}, err
	}
	cs, err := s.catalog.CoursesIn(ctx, tx)
	if err != nil {
		return classLessons{}, err
	}
	k := classLessons{class: c, seats: seats, versions: versions, courses: map[string]catalog.Course{}, byID: map[int64]catalog.Course{}}
	for _, co := range cs {
		k.courses[strings.ToUpper(co.Code)] = co
		k.byID[co.ID] = co
	}
	return k, nil
}

func (s *Service) versionsOf(ctx context.Context, tx bun.IDB, seats map[int64]enrolment.Seat) (map[int64]catalog.PlanVersion, error) {
	ids := map[int64]bool{}
	for _, e := range seats {
		ids[e.PlanVersionID] = true
	}
	return s.catalog.Versions(ctx, tx, keys(ids))
}

// RecordLesson stores one lesson of class classID with who was present
// and recomputes their completion in the same transaction. Only the class's
// provider (or an admin) may, once the class is running or completed;
// source is SourceForm or SourceSheet. Errors: NotFound (class_not_found),
// Conflict (class_not_running, lesson_exists), Invalid (lesson_invalid with
// one error per problem: invalid_date, outside_class, future_date,
// unknown_course, invalid_hours, hours_over_limit, required, not_enrolled,
// duplicate, day_limit).
func (s *Service) RecordLesson(ctx context.Context, p *accounts.Principal, classID int64, in LessonInput, source string) (LessonResult, error) {
	var res LessonResult
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		k, err := s.open(ctx, tx, p, classID)
		if err != nil {
			return err
		}
		var fields []apperr.FieldError
		res, fields, err = s.record(ctx, tx, p, k, in, source)
		if err != nil {
			return err
		}
		if len(fields) > 0 {
			return apperr.Invalid("lesson_invalid", "课次记录有误，未保存", fields...)
		}
		return nil
	})
	return res, err
}

// record checks and stores one lesson inside the transaction of open;
// refusals come back as field errors, nothing stored.
func (s *Service) record(ctx context.Context, tx bun.IDB, p *accounts.Principal, k classLessons, in LessonInput, source string) (LessonResult, []apperr.FieldError, error) {
	st := NewStore(tx)
	chk := lessonCheck{starts: k.class.StartsOn, ends: k.class.EndsOn, today: s.classes.Today(),
		seats: k.seats, versions: k.versions, courses: k.courses}
	day, dateOK := parseDate(in.Date)
	if dateOK {
		var err error
		if chk.dayHours, err = st.DayHours(ctx, in.Present, day, 0); err != nil {
			return LessonResult{}, nil, err
		}
	}
	course, fields := checkLesson(in, chk)
	if len(fields) > 0 {
		return LessonResult{}, fields, nil
	}
	switch exists, err := st.Exists(ctx, k.class.ID, course.ID, day); {
	case err != nil:
		return LessonResult{}, nil, err
	case exists:
		return LessonResult{}, []apperr.FieldError{rowErr(in.Row, "date", "lesson_exists",
			fmt.Sprintf("%s 的课程 %s 已登记课次；如需更正出勤，请修改该课次", in.Date, course.Code))}, nil
	}
	present := dedupe(in.Present)
	id, err := st.Insert(ctx, k.class.ID, course.ID, day, in.Hours, present, source, p.UserID)
	if err != nil {
		return LessonResult{}, nil, err
	}
	res := LessonResult{Lesson: Lesson{ID: id, ClassID: k.class.ID, CourseID: course.ID, CourseCode: course.Code,
		CourseTitle: course.Title, HeldOn: day, Date: day.Format(time.DateOnly), Hours: in.Hours, Present: present}}
	if res.Completed, res.Reopened, err = s.recompute(ctx, tx, present, k); err != nil {
		return LessonResult{}, nil, err
	}
	return res, nil, audit.Record(ctx, tx, audit.Event{
		ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "attendance.lesson", TargetType: "lesson",
		TargetID: strconv.FormatInt(id, 10),
		Summary: map[string]any{"class_id": k.class.ID, "date": res.Date, "course": course.Code, "hours": in.Hours.String(),
			"present": len(present), "source": source, "completed": res.Completed},
	})
}

// CorrectLesson changes who attended lesson lessonID (adding or removing
// people), with a reason kept per change and audited, and recomputes the
// completion of everyone changed in the same transaction. A carried-over
// total belongs to one person: it can be taken away, not given to others.
// Errors: NotFound (lesson_not_found, also outside the caller's scope),
// Conflict (class_not_running, carried_over), Invalid (lesson_invalid:
// reason required, not_enrolled, unknown_course, duplicate, day_limit).
func (s *Service) CorrectLesson(ctx context.Context, p *accounts.Principal, lessonID int64, in Correction) (LessonResult, error) {
	var res LessonResult
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		classID, err := st.ClassOf(ctx, lessonID)
		if err != nil {
			return err
		}
		k, err := s.open(ctx, tx, p, classID)
		if apperr.KindOf(err) == apperr.KindNotFound {
			return ErrLessonNotFound()
		}
		if err != nil {
			return err
		}
		l, err := st.Lesson(ctx, lessonID)
		if err != nil {
			return err
		}
		course := k.byID[l.CourseID]
		l.CourseCode, l.CourseTitle = course.Code, course.Title
		added, removed := diff(l.Present, dedupe(in.Present))
		res = LessonResult{Lesson: l}
		if len(added) == 0 && len(removed) == 0 {
			return nil
		}
		reason := strings.TrimSpace(in.Reason)
		var fields []apperr.FieldError
		if reason == "" {
			fields = append(fields, apperr.FieldError{Field: "reason", Code: "required", Message: "更正已登记的课次须填写原因"})
		}
		if len(added) > 0 {
			if l.CarriedOver {
				return apperr.Conflict("carried_over", "结转的学时属于一名学员，只能取消，不能加给其他学员")
			}
			dh, err := st.DayHours(ctx, added, l.HeldOn, l.ID)
			if err != nil {
				return err
			}
			chk := lessonCheck{starts: k.class.StartsOn, ends: k.class.EndsOn, today: s.classes.Today(),
				seats: k.seats, versions: k.versions, courses: k.courses, dayHours: dh}
			_, f := checkLesson(LessonInput{Date: l.Date, CourseCode: course.Code, Hours: l.Hours, Present: added}, chk)
			fields = append(fields, f...)
		}
		if len(fields) > 0 {
			return apperr.Invalid("lesson_invalid", "更正有误，未保存", fields...)
		}
		if err := st.RemoveAttendees(ctx, l.ID, removed); err != nil {
			return err
		}
		if err := st.AddAttendees(ctx, l.ID, added); err != nil {
			return err
		}
		if err := st.LogChanges(ctx, l.ID, added, removed, reason, p.UserID); err != nil {
			return err
		}
		res.Present, res.Added, res.Removed = dedupe(in.Present), added, removed
		if res.Present == nil {
			res.Present = []int64{}
		}
		touched := append(append([]int64{}, added...), removed...)
		if res.Completed, res.Reopened, err = s.recompute(ctx, tx, touched, k); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "attendance.correct", TargetType: "lesson",
			TargetID: strconv.FormatInt(l.ID, 10),
			Summary: map[string]any{"class_id": k.class.ID, "date": l.Date, "course": course.Code, "added": added,
				"removed": removed, "reason": reason, "completed": res.Completed, "reopened": res.Reopened},
		})
	})
	return res, err
}

// recompute decides completion of the given enrolments from the lessons
// they attended against their own plan versions and writes the status
// changes: enrolled → completed (dated today) when complete, completed →
// enrolled when a correction takes the hours away.
func (s *Service) recompute(ctx context.Context, tx bun.IDB, ids []int64, k classLessons) (completed, reopened []int64, err error) {
	stored, err := NewStore(tx).HoursOf(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	completed, reopened = completions(ids, k.seats, k.versions, stored)
	st := enrolment.NewStore(tx)
	if err := st.SetCompleted(ctx, completed, s.classes.Today()); err != nil {
		return nil, nil, err
	}
	if err := st.Reopen(ctx, reopened); err != nil {
		return nil, nil, err
	}
	workerOf := func(id int64) int64 { return k.seats[id].WorkerID }
	if err := s.fireCompleted(ctx, tx, k.class, completed, workerOf); err != nil {
		return nil, nil, err
	}
	return completed, reopened, nil
}

// Lessons returns class classID (if p may see it), its roster with
// progress and its lessons, oldest first, with course codes and titles.
// Errors: NotFound (class_not_found).
func (s *Service) Lessons(ctx context.Context, p *accounts.Principal, classID int64) (classes.Class, []Enrolment, []Lesson, error) {
	c, roster, err := s.Roster(ctx, p, classID)
	if err != nil {
		return classes.Class{}, nil, nil, err
	}
	ls, err := NewStore(s.db).Lessons(ctx, c.ID)
	if err != nil {
		return classes.Class{}, nil, nil, err
	}
	return c, roster, ls, s.name(ctx, ls)
}

// Lesson returns lesson id with its class and the class roster, if p may
// see the class. Errors: NotFound (lesson_not_found).
func (s *Service) Lesson(ctx context.Context, p *accounts.Principal, id int64) (Lesson, classes.Class, []Enrolment, error) {
	classID, err := NewStore(s.db).ClassOf(ctx, id)
	if err != nil {
		return Lesson{}, classes.Class{}, nil, err
	}
	c, roster, ls, err := s.Lessons(ctx, p, classID)
	if apperr.KindOf(err) == apperr.KindNotFound {
		return Lesson{}, classes.Class{}, nil, ErrLessonNotFound()
	}
	if err != nil {
		return Lesson{}, classes.Class{}, nil, err
	}
	for _, l := range ls {
		if l.ID == id {
			return l, c, roster, nil
		}
	}
	return Lesson{}, classes.Class{}, nil, ErrLessonNotFound()
}

// History is what an enrolment's progress page lists under its hours: the
// lessons attended and every correction, newest first.
type History struct {
	Lessons []Lesson `json:"lessons"`
	Changes []Change `json:"changes"`
}

// History returns the lessons enrolment id attended and the corrections
// touching it, if p may see the enrolment. Errors: NotFound
// (enrolment_not_found).
func (s *Service) History(ctx context.Context, p *accounts.Principal, id int64) (History, error) {
	if _, err := s.enrolment.View(ctx, p, id); err != nil {
		return History{}, err
	}
	st := NewStore(s.db)
	ls, err := st.Attended(ctx, id)
	if err != nil {
		return History{}, err
	}
	if err := s.name(ctx, ls); err != nil {
		return History{}, err
	}
	cs, err := st.Changes(ctx, id)
	if err != nil {
		return History{}, err
	}
	courses, err := s.courseMap(ctx)
	if err != nil {
		return History{}, err
	}
	for i := range cs {
		cs[i].CourseCode, cs[i].CourseTitle = courses[cs[i].CourseID].Code, courses[cs[i].CourseID].Title
	}
	if cs == nil {
		cs = []Change{}
	}
	return History{Lessons: ls, Changes: cs}, nil
}

func (s *Service) courseMap(ctx context.Context) (map[int64]catalog.Course, error) {
	cs, err := s.catalog.Courses(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]catalog.Course, len(cs))
	for _, c := range cs {
		out[c.ID] = c
	}
	return out, nil
}

// name fills the course codes and titles of ls.
func (s *Service) name(ctx context.Context, ls []Lesson) error {
	courses, err := s.courseMap(ctx)
	if err != nil {
		return err
	}
	for i := range ls {
		ls[i].CourseCode, ls[i].CourseTitle = courses[ls[i].CourseID].Code, courses[ls[i].CourseID].Title
	}
	return nil
}

// errRollback ends a preview's transaction without storing anything.
var errRollback = fmt.Errorf("preview: roll back")
