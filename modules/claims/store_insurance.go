package claims

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"tuoyu/modules/apperr"
)

// InsertImport stores a previewed insurance import, setting its id and
// created_at. Errors: only internal ones.
func (s Store) InsertImport(ctx context.Context, imp *InsuranceImport) error {
	if _, err := s.db.NewInsert().Model(imp).Returning("id, created_at").Exec(ctx); err != nil {
		return fmt.Errorf("store insurance import: %w", err)
	}
	return nil
}

// LockImport reads import id uploaded by userID into imp and locks it for
// the commit (two commits of one preview must not both apply it). Errors:
// NotFound insurance_import_not_found (also another user's import).
func (s Store) LockImport(ctx context.Context, imp *InsuranceImport, id, userID int64) error {
	err := s.db.NewSelect().Model(imp).Where("ii.id = ? AND ii.uploaded_by = ?", id, userID).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound("insurance_import_not_found", "导入记录不存在")
	}
	if err != nil {
		return fmt.Errorf("lock insurance import %d: %w", id, err)
	}
	return nil
}

// MarkCommitted writes imp's status, committed_at and rows_updated.
// Errors: only internal ones.
func (s Store) MarkCommitted(ctx context.Context, imp *InsuranceImport) error {
	if _, err := s.db.NewUpdate().Model(imp).Column("status", "committed_at", "rows_updated").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("commit insurance import %d: %w", imp.ID, err)
	}
	return nil
}
