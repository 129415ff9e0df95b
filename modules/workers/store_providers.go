package workers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// provider_workers is the read model of a provider's scope over workers:
// one row per provider and worker it registered (registered) or holds in
// its classes (places: the worker's active enrolments there). The
// enrolment module keeps places in step through the methods below, in the
// transaction of each enrolment change; a row with neither is deleted.

// LinkRegistrar records that provider orgID registered worker workerID.
// Errors: none of its own (database failures only).
func (s Store) LinkRegistrar(ctx context.Context, orgID, workerID int64) error {
	_, err := s.db.NewRaw(`INSERT INTO provider_workers (organisation_id, worker_id, registered) VALUES (?, ?, true)
		ON CONFLICT (organisation_id, worker_id) DO UPDATE SET registered = true`, orgID, workerID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("link worker %d to registering provider %d: %w", workerID, orgID, err)
	}
	return nil
}

// AddProviderPlace counts one more active enrolment of worker workerID in a
// class of provider orgID.
// Errors: none of its own (database failures only).
func (s Store) AddProviderPlace(ctx context.Context, orgID, workerID int64) error {
	_, err := s.db.NewRaw(`INSERT INTO provider_workers (organisation_id, worker_id, places) VALUES (?, ?, 1)
		ON CONFLICT (organisation_id, worker_id) DO UPDATE SET places = provider_workers.places + 1`, orgID, workerID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("link worker %d to provider %d: %w", workerID, orgID, err)
	}
	return nil
}

// RemoveProviderPlaces counts one active enrolment less in a class of
// provider orgID for each of workerIDs (a worker may appear more than
// once), and drops the links that no longer hold anything. The links are
// locked in worker order first, so two transactions ending places of the
// same workers cannot deadlock.
// Errors: none of its own (database failures only).
func (s Store) RemoveProviderPlaces(ctx context.Context, orgID int64, workerIDs []int64) error {
	if len(workerIDs) == 0 {
		return nil
	}
	ids := pgdialect.Array(workerIDs)
	_, err := s.db.NewRaw(`SELECT 1 FROM provider_workers WHERE organisation_id = ? AND worker_id = ANY(?)
		ORDER BY worker_id FOR UPDATE`, orgID, ids).Exec(ctx)
	if err != nil {
		return fmt.Errorf("lock provider %d links: %w", orgID, err)
	}
	_, err = s.db.NewRaw(`UPDATE provider_workers AS pw SET places = pw.places - d.n
		FROM (SELECT w AS worker_id, count(*) AS n FROM unnest(?::bigint[]) AS w GROUP BY w) AS d
		WHERE pw.organisation_id = ? AND pw.worker_id = d.worker_id`, ids, orgID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("unlink workers from provider %d: %w", orgID, err)
	}
	_, err = s.db.NewRaw(`DELETE FROM provider_workers WHERE organisation_id = ? AND worker_id = ANY(?)
		AND places = 0 AND NOT registered`, orgID, ids).Exec(ctx)
	if err != nil {
		return fmt.Errorf("drop empty provider links of provider %d: %w", orgID, err)
	}
	return nil
}

// BannedForShare reads the worker's ban flag under a share lock, so a ban
// recorded concurrently either waits for the caller's transaction or is
// seen. Errors: NotFound (worker_not_found).
func (s Store) BannedForShare(ctx context.Context, workerID int64) (bool, error) {
	return s.bannedLocked(ctx, workerID, "SHARE")
}

// LockForEnrolment locks the worker's row for the caller's enrolment change
// and returns the ban flag. A ban recorded concurrently waits for the
// caller's transaction or is seen. Two enrolments of one worker run one
// after the other: under a share lock both inserted their rows and then
// each waited for the other in the exclusion constraint on their periods,
// a deadlock (seen in the load test); now the second sees the first's
// enrolment and answers the overlap. The lock does not block reading the
// worker, nor another table's key referring to it.
// Errors: NotFound (worker_not_found).
func (s Store) LockForEnrolment(ctx context.Context, workerID int64) (bool, error) {
	return s.bannedLocked(ctx, workerID, "NO KEY UPDATE")
}

func (s Store) bannedLocked(ctx context.Context, workerID int64, lock string) (bool, error) {
	var banned bool
	err := s.db.NewSelect().Table("workers").Column("banned").Where("id = ?", workerID).For(lock).Scan(ctx, &banned)
	if errors.Is(err, sql.ErrNoRows) {
		return false, errNotFound()
	}
	if err != nil {
		return false, fmt.Errorf("ban flag of worker %d: %w", workerID, err)
	}
	return banned, nil
}

// IDNumberIndexes returns the ID-number blind index of each of ids.
// Errors: none of its own (database failures only).
func (s Store) IDNumberIndexes(ctx context.Context, ids []int64) (map[int64][]byte, error) {
	out := make(map[int64][]byte, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID  int64  `bun:"id"`
		Idx []byte `bun:"id_number_idx"`
	}
	if err := s.db.NewSelect().Table("workers").Column("id", "id_number_idx").Where("id IN (?)", bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("ID number indexes: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Idx
	}
	return out, nil
}

// Unbanned selects the IDs of workers not banned: a sub-query for other
// modules' stores that pick the next worker to place.
func Unbanned(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("workers").Column("id").Where("NOT banned")
}

// Banned selects the IDs of banned workers: a sub-query for other modules'
// stores that must leave them out (the certificate catch-up).
func Banned(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("workers").Column("id").Where("banned")
}

// Graduates selects the IDs of the workers college collegeOrgID sent (its
// roster graduates): a sub-query, so another module's list of a college's
// graduates stays one statement.
func Graduates(db bun.IDB, collegeOrgID int64) *bun.SelectQuery {
	return db.NewSelect().Table("workers").Column("id").Where("college_org_id = ?", collegeOrgID)
}

// Display selects the columns other modules' lists show of a worker (id,
// name, id_mask): a sub-query to join, so a list stays one statement.
func Display(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("workers").Column("id", "name", "id_mask")
}

// DisplayCollege is Display with the college that sent each worker
// (college_org_id, NULL when none): a sub-query for lists a college reads.
func DisplayCollege(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("workers").Column("id", "name", "id_mask", "college_org_id")
}
