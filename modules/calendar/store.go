package calendar

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Store reads and writes the calendar tables.
type Store struct{ db bun.IDB }

// NewStore returns a store on db (a database or a transaction).
func NewStore(db bun.IDB) *Store { return &Store{db: db} }

// Version is the calendar's change counter.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.NewSelect().Table("calendar_version").Column("version").Where("id").Scan(ctx, &v); err != nil {
		return 0, fmt.Errorf("read calendar version: %w", err)
	}
	return v, nil
}

// All returns every special day and the version read before them: a change
// in between only makes the caller load again later, never keep stale days.
func (s *Store) All(ctx context.Context) ([]Day, int64, error) {
	v, err := s.Version(ctx)
	if err != nil {
		return nil, 0, err
	}
	var days []Day
	if err := s.db.NewSelect().Model(&days).Order("day").Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("load calendar: %w", err)
	}
	return days, v, nil
}

// Year returns a year's special days in date order.
func (s *Store) Year(ctx context.Context, year int) ([]Day, error) {
	var days []Day
	err := s.db.NewSelect().Model(&days).
		Where("day >= ? AND day < ?", yearStart(year), yearStart(year+1)).
		Order("day").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load calendar %d: %w", year, err)
	}
	return days, nil
}

// ReplaceYear deletes a year's special days and inserts days, then bumps the
// version. Run it in a transaction.
func (s *Store) ReplaceYear(ctx context.Context, year int, days []Day) error {
	if _, err := s.db.NewDelete().Model((*Day)(nil)).
		Where("day >= ? AND day < ?", yearStart(year), yearStart(year+1)).Exec(ctx); err != nil {
		return fmt.Errorf("clear calendar %d: %w", year, err)
	}
	if len(days) > 0 {
		if _, err := s.db.NewInsert().Model(&days).Exec(ctx); err != nil {
			return fmt.Errorf("store calendar %d: %w", year, err)
		}
	}
	if _, err := s.db.NewUpdate().Table("calendar_version").Set("version = version + 1").Where("id").Exec(ctx); err != nil {
		return fmt.Errorf("bump calendar version: %w", err)
	}
	return nil
}

// yearStart is 1 January of year as a civil date (compared with a date column).
func yearStart(year int) string { return fmt.Sprintf("%04d-01-01", year) }
