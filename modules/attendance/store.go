package attendance

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
)

// Store reads and writes attendance and its change log
// (attendance_changes), on the database or inside a transaction.
type Store struct{ db bun.IDB }

// NewStore returns a store working on db.
func NewStore(db bun.IDB) Store { return Store{db: db} }

// HoursDone is the sum of the hours recorded for enrolment id, the hours a
// certificate states. Errors: none of its own (database failures only).
func (s Store) HoursDone(ctx context.Context, enrolmentID int64) (catalog.Hours, error) {
	var h catalog.Hours
	err := s.db.NewSelect().Table("attendance").ColumnExpr("coalesce(sum(hours), 0)").
		Where("enrolment_id = ?", enrolmentID).Scan(ctx, &h)
	if err != nil {
		return 0, fmt.Errorf("hours of enrolment %d: %w", enrolmentID, err)
	}
	return h, nil
}

// Stored is the hours on file of one enrolment in one course.
type Stored struct {
	ID          int64         `bun:"id"`
	EnrolmentID int64         `bun:"enrolment_id"`
	CourseID    int64         `bun:"course_id"`
	Hours       catalog.Hours `bun:"hours"`
}

// Key names the hours of one enrolment in one course.
type Key struct{ Enrolment, Course int64 }

// HoursOf loads the attendance of the given enrolments, in one query.
// Errors: none of its own (database failures only).
func (s Store) HoursOf(ctx context.Context, enrolmentIDs []int64) (map[Key]Stored, error) {
	out := map[Key]Stored{}
	if len(enrolmentIDs) == 0 {
		return out, nil
	}
	var rows []Stored
	err := s.db.NewSelect().Table("attendance").Column("id", "enrolment_id", "course_id", "hours").
		Where("enrolment_id IN (?)", bun.List(enrolmentIDs)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("attendance: %w", err)
	}
	for _, r := range rows {
		out[Key{r.EnrolmentID, r.CourseID}] = r
	}
	return out, nil
}

type attRow struct {
	bun.BaseModel `bun:"table:attendance"`
	ID            int64         `bun:"id,pk,autoincrement"`
	EnrolmentID   int64         `bun:"enrolment_id"`
	CourseID      int64         `bun:"course_id"`
	Hours         catalog.Hours `bun:"hours,type:numeric(5,1)"`
	RecordedBy    int64         `bun:"recorded_by,nullzero"`
}

type changeRow struct {
	bun.BaseModel `bun:"table:attendance_changes"`
	AttendanceID  int64          `bun:"attendance_id"`
	OldHours      *catalog.Hours `bun:"old_hours,type:numeric(5,1)"`
	NewHours      catalog.Hours  `bun:"new_hours,type:numeric(5,1)"`
	Reason        string         `bun:"reason"`
	Source        string         `bun:"source"`
	ChangedBy     int64          `bun:"changed_by,nullzero"`
}

// Write is one change of hours to store: the new total and, for a
// correction, the old one and why.
type Write struct {
	Entry
	Old *catalog.Hours
}

// Save stores the new totals of writes (inserting or overwriting) and one
// change-log row each, by user; source is SourceForm or SourceCSV. Errors:
// Invalid (hours_over_limit) from the course-hours trigger.
func (s Store) Save(ctx context.Context, writes []Write, source string, by int64) error {
	rows := make([]attRow, 0, len(writes))
	for _, w := range writes {
		rows = append(rows, attRow{EnrolmentID: w.EnrolmentID, CourseID: w.CourseID, Hours: w.Hours, RecordedBy: by})
	}
	_, err := s.db.NewInsert().Model(&rows).
		On("CONFLICT (enrolment_id, course_id) DO UPDATE").
		Set("hours = EXCLUDED.hours, recorded_by = EXCLUDED.recorded_by, updated_at = now()").
		Returning("id").Exec(ctx)
	if err != nil {
		return fmt.Errorf("store attendance: %w", translate(err))
	}
	changes := make([]changeRow, 0, len(writes))
	for i, w := range writes {
		changes = append(changes, changeRow{AttendanceID: rows[i].ID, OldHours: w.Old, NewHours: w.Hours,
			Reason: w.Reason, Source: source, ChangedBy: by})
	}
	if _, err := s.db.NewInsert().Model(&changes).Exec(ctx); err != nil {
		return fmt.Errorf("record attendance changes: %w", err)
	}
	return nil
}

// translate turns the course-hours trigger's violation into an apperr
// value; anything else passes through to become a 500.
func translate(err error) error {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) && pgErr.Field('n') == "attendance_within_course" {
		return apperr.Invalid("hours_over_limit", "学时超过课程总学时").Wrap(err)
	}
	return err
}
