package attendance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
)

// Store reads and writes lessons, who attended them (lesson_attendees) and
// the corrections (lesson_changes), on the database or inside a
// transaction.
type Store struct{ db bun.IDB }

// NewStore returns a store working on db.
func NewStore(db bun.IDB) Store { return Store{db: db} }

// HoursDone is the hours of the lessons enrolment id attended, the hours a
// certificate states. Errors: none of its own (database failures only).
func (s Store) HoursDone(ctx context.Context, enrolmentID int64) (catalog.Hours, error) {
	var h catalog.Hours
	err := s.db.NewSelect().TableExpr("lesson_attendees AS a").Join("JOIN lessons AS l ON l.id = a.lesson_id").
		ColumnExpr("coalesce(sum(l.hours), 0)").Where("a.enrolment_id = ?", enrolmentID).Scan(ctx, &h)
	if err != nil {
		return 0, fmt.Errorf("hours of enrolment %d: %w", enrolmentID, err)
	}
	return h, nil
}

// Stored is the hours of one enrolment in one course: the sum of the
// lessons of that course it attended.
type Stored struct {
	EnrolmentID int64         `bun:"enrolment_id"`
	CourseID    int64         `bun:"course_id"`
	Hours       catalog.Hours `bun:"hours"`
}

// Key names the hours of one enrolment in one course.
type Key struct{ Enrolment, Course int64 }

// HoursOf sums the lessons the given enrolments attended, per enrolment and
// course, in one query. Errors: none of its own (database failures only).
func (s Store) HoursOf(ctx context.Context, enrolmentIDs []int64) (map[Key]Stored, error) {
	out := map[Key]Stored{}
	if len(enrolmentIDs) == 0 {
		return out, nil
	}
	var rows []Stored
	err := s.db.NewSelect().TableExpr("lesson_attendees AS a").Join("JOIN lessons AS l ON l.id = a.lesson_id").
		ColumnExpr("a.enrolment_id, l.course_id, sum(l.hours) AS hours").
		Where("a.enrolment_id IN (?)", bun.List(enrolmentIDs)).
		GroupExpr("a.enrolment_id, l.course_id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("hours attended: %w", err)
	}
	for _, r := range rows {
		out[Key{r.EnrolmentID, r.CourseID}] = r
	}
	return out, nil
}

type lessonRow struct {
	bun.BaseModel `bun:"table:lessons"`
	ID            int64         `bun:"id,pk,autoincrement"`
	ClassID       int64         `bun:"class_id"`
	CourseID      int64         `bun:"course_id"`
	HeldOn        time.Time     `bun:"held_on,type:date"`
	Hours         catalog.Hours `bun:"hours,type:numeric(5,1)"`
	CarriedOver   bool          `bun:"carried_over"`
	Source        string        `bun:"source"`
	CreatedBy     int64         `bun:"created_by,nullzero"`
	CreatedAt     time.Time     `bun:"created_at,nullzero,notnull,default:current_timestamp"`
	Present       []int64       `bun:"present,array,scanonly"`
}

func (r lessonRow) lesson() Lesson {
	present := r.Present
	if present == nil {
		present = []int64{}
	}
	return Lesson{ID: r.ID, ClassID: r.ClassID, CourseID: r.CourseID, HeldOn: r.HeldOn,
		Date: r.HeldOn.Format(time.DateOnly), Hours: r.Hours, CarriedOver: r.CarriedOver, Present: present}
}

// lessonQuery selects lessons with their attendees, in date order.
func (s Store) lessonQuery(rows *[]lessonRow) *bun.SelectQuery {
	return s.db.NewSelect().Model(rows).
		ColumnExpr("lesson_row.*").
		ColumnExpr("coalesce((SELECT array_agg(a.enrolment_id ORDER BY a.enrolment_id) FROM lesson_attendees a WHERE a.lesson_id = lesson_row.id), '{}') AS present").
		OrderExpr("lesson_row.held_on, lesson_row.id")
}

// Lessons returns the lessons of class classID, oldest first, with who
// attended. Errors: none of its own (database failures only).
func (s Store) Lessons(ctx context.Context, classID int64) ([]Lesson, error) {
	var rows []lessonRow
	if err := s.lessonQuery(&rows).Where("lesson_row.class_id = ?", classID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("lessons of class %d: %w", classID, err)
	}
	out := make([]Lesson, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.lesson())
	}
	return out, nil
}

// Attended returns the lessons enrolment id attended, oldest first.
// Errors: none of its own (database failures only).
func (s Store) Attended(ctx context.Context, enrolmentID int64) ([]Lesson, error) {
	var rows []lessonRow
	err := s.lessonQuery(&rows).
		Where("lesson_row.id IN (SELECT lesson_id FROM lesson_attendees WHERE enrolment_id = ?)", enrolmentID).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("lessons of enrolment %d: %w", enrolmentID, err)
	}
	out := make([]Lesson, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.lesson())
	}
	return out, nil
}

// ErrLessonNotFound is the answer for a lesson that does not exist or lies
// outside the caller's scope.
func ErrLessonNotFound() *apperr.Error { return apperr.NotFound("lesson_not_found", "课次不存在") }

// Lesson loads lesson id with who attended, locked for update. Errors:
// NotFound (lesson_not_found).
func (s Store) Lesson(ctx context.Context, id int64) (Lesson, error) {
	var rows []lessonRow
	if err := s.lessonQuery(&rows).Where("lesson_row.id = ?", id).For("UPDATE OF lesson_row").Scan(ctx); err != nil {
		return Lesson{}, fmt.Errorf("lesson %d: %w", id, err)
	}
	if len(rows) == 0 {
		return Lesson{}, ErrLessonNotFound()
	}
	return rows[0].lesson(), nil
}

// ClassOf returns the class of lesson id. Errors: NotFound
// (lesson_not_found).
func (s Store) ClassOf(ctx context.Context, id int64) (int64, error) {
	var classID int64
	err := s.db.NewSelect().Table("lessons").Column("class_id").Where("id = ?", id).Scan(ctx, &classID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrLessonNotFound()
	}
	if err != nil {
		return 0, fmt.Errorf("class of lesson %d: %w", id, err)
	}
	return classID, nil
}

// DayHours sums, for the given enrolments, the hours of lessons they
// attended on day (carried-over totals excluded), leaving out lesson
// except (0 for none). Errors: none of its own (database failures only).
func (s Store) DayHours(ctx context.Context, enrolmentIDs []int64, day time.Time, except int64) (map[int64]catalog.Hours, error) {
	out := map[int64]catalog.Hours{}
	if len(enrolmentIDs) == 0 {
		return out, nil
	}
	var rows []Stored
	err := s.db.NewSelect().TableExpr("lesson_attendees AS a").Join("JOIN lessons AS l ON l.id = a.lesson_id").
		ColumnExpr("a.enrolment_id, sum(l.hours) AS hours").
		Where("a.enrolment_id IN (?)", bun.List(enrolmentIDs)).
		Where("l.held_on = ?::date AND NOT l.carried_over AND l.id <> ?", day.Format(time.DateOnly), except).
		GroupExpr("a.enrolment_id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("hours of the day: %w", err)
	}
	for _, r := range rows {
		out[r.EnrolmentID] = r.Hours
	}
	return out, nil
}

// Exists reports whether class classID has a lesson (not carried over) of
// course courseID on day. Errors: none of its own.
func (s Store) Exists(ctx context.Context, classID, courseID int64, day time.Time) (bool, error) {
	ok, err := s.db.NewSelect().Table("lessons").
		Where("class_id = ? AND course_id = ? AND held_on = ?::date AND NOT carried_over", classID, courseID, day.Format(time.DateOnly)).
		Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("lesson exists: %w", err)
	}
	return ok, nil
}

// Insert stores a lesson and who attended it. Errors: Conflict
// (lesson_exists: a lesson of that course that day), Invalid (day_limit
// from the database's guard).
func (s Store) Insert(ctx context.Context, classID, courseID int64, day time.Time, hours catalog.Hours, present []int64, source string, by int64) (int64, error) {
	r := lessonRow{ClassID: classID, CourseID: courseID, HeldOn: day, Hours: hours, Source: source, CreatedBy: by}
	if _, err := s.db.NewInsert().Model(&r).Returning("id").Exec(ctx); err != nil {
		return 0, fmt.Errorf("insert lesson: %w", translate(err))
	}
	return r.ID, s.AddAttendees(ctx, r.ID, present)
}

type attendeeRow struct {
	bun.BaseModel `bun:"table:lesson_attendees"`
	LessonID      int64 `bun:"lesson_id"`
	EnrolmentID   int64 `bun:"enrolment_id"`
}

// AddAttendees marks the enrolments present at lesson id. Errors: Invalid
// (day_limit).
func (s Store) AddAttendees(ctx context.Context, id int64, enrolmentIDs []int64) error {
	if len(enrolmentIDs) == 0 {
		return nil
	}
	rows := make([]attendeeRow, 0, len(enrolmentIDs))
	for _, e := range enrolmentIDs {
		rows = append(rows, attendeeRow{LessonID: id, EnrolmentID: e})
	}
	if _, err := s.db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("attendees of lesson %d: %w", id, translate(err))
	}
	return nil
}

// RemoveAttendees marks the enrolments absent from lesson id. Errors: none
// of its own (database failures only).
func (s Store) RemoveAttendees(ctx context.Context, id int64, enrolmentIDs []int64) error {
	if len(enrolmentIDs) == 0 {
		return nil
	}
	_, err := s.db.NewDelete().Table("lesson_attendees").
		Where("lesson_id = ? AND enrolment_id IN (?)", id, bun.List(enrolmentIDs)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("remove attendees of lesson %d: %w", id, err)
	}
	return nil
}

type changeRow struct {
	bun.BaseModel `bun:"table:lesson_changes"`
	LessonID      int64  `bun:"lesson_id"`
	EnrolmentID   int64  `bun:"enrolment_id"`
	Change        string `bun:"change"`
	Reason        string `bun:"reason"`
	ChangedBy     int64  `bun:"changed_by,nullzero"`
}

// LogChanges keeps one row per enrolment added to or removed from lesson
// id, with the reason and the user. Errors: none of its own.
func (s Store) LogChanges(ctx context.Context, id int64, added, removed []int64, reason string, by int64) error {
	var rows []changeRow
	for _, e := range added {
		rows = append(rows, changeRow{LessonID: id, EnrolmentID: e, Change: "added", Reason: reason, ChangedBy: by})
	}
	for _, e := range removed {
		rows = append(rows, changeRow{LessonID: id, EnrolmentID: e, Change: "removed", Reason: reason, ChangedBy: by})
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := s.db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("log changes of lesson %d: %w", id, err)
	}
	return nil
}

// Changes returns the corrections touching enrolment id, newest first.
// Errors: none of its own (database failures only).
func (s Store) Changes(ctx context.Context, enrolmentID int64) ([]Change, error) {
	var out []Change
	err := s.db.NewSelect().TableExpr("lesson_changes AS c").Join("JOIN lessons AS l ON l.id = c.lesson_id").
		ColumnExpr("c.lesson_id, l.held_on, l.course_id, l.hours, c.change, c.reason, coalesce(c.changed_by, 0) AS changed_by, c.changed_at").
		Where("c.enrolment_id = ?", enrolmentID).OrderExpr("c.id DESC").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("changes of enrolment %d: %w", enrolmentID, err)
	}
	for i := range out {
		out[i].Date = out[i].HeldOn.Format(time.DateOnly)
	}
	return out, nil
}

// translate turns the lessons' constraints into apperr values; anything
// else passes through to become a 500.
func translate(err error) error {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Field('n') {
	case "lessons_once_a_day":
		return apperr.Conflict("lesson_exists", "该课程当天已登记课次；如需更正出勤，请修改该课次").Wrap(err)
	case "lesson_day_limit":
		return apperr.Invalid("day_limit", "学员每天的学时不能超过 8 学时").Wrap(err)
	case "lessons_hours":
		return apperr.Invalid("invalid_hours", "学时须大于 0、不超过 8，以 0.5 为单位").Wrap(err)
	}
	return err
}
