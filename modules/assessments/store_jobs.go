package assessments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The statements of the jobs and of the calendar feed: set-based writes
// the nightly job runs for thousands of classes at once.

// SaveCalendarToken stores the SHA-256 of worker workerID's feed token,
// replacing the old one. Errors: none of its own (database failures only).
func (s Store) SaveCalendarToken(ctx context.Context, workerID int64, hash []byte) error {
	_, err := s.db.NewRaw(`INSERT INTO calendar_feed_tokens (worker_id, token_hash) VALUES (?, ?)
		ON CONFLICT (worker_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = now()`, workerID, hash).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store calendar token of worker %d: %w", workerID, err)
	}
	return nil
}

// HasCalendarToken reports whether the worker has a feed token.
// Errors: none of its own (database failures only).
func (s Store) HasCalendarToken(ctx context.Context, workerID int64) (bool, error) {
	return s.db.NewSelect().TableExpr("calendar_feed_tokens").Where("worker_id = ?", workerID).Exists(ctx)
}

// WorkerOfToken returns the worker whose token hashes to hash, 0 when none.
// Errors: none of its own (database failures only).
func (s Store) WorkerOfToken(ctx context.Context, hash []byte) (int64, error) {
	var workerID int64
	err := s.db.NewSelect().TableExpr("calendar_feed_tokens").Column("worker_id").Where("token_hash = ?", hash).Scan(ctx, &workerID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("calendar token: %w", err)
	}
	return workerID, nil
}

// plannedMade is a sitting InsertPlanned created.
type plannedMade struct {
	ID      int64 `bun:"id"`
	ClassID int64 `bun:"class_id"`
	Kind    Kind  `bun:"kind"`
	Attempt int   `bun:"attempt"`
}

// InsertPlanned inserts the planned sittings in one statement (a class's
// part and attempt that has its sitting already gets none); with
// firstOnly, a class's part with any sitting at all gets none.
// Errors: none of its own (database failures only).
func (s Store) InsertPlanned(ctx context.Context, plan []plannedSitting, firstOnly bool) ([]plannedMade, error) {
	k := len(plan)
	cls, orgs, att, capa := make([]int64, k), make([]int64, k), make([]int64, k), make([]int64, k)
	regs, places, kinds := make([]string, k), make([]string, k), make([]string, k)
	starts, ends := make([]time.Time, k), make([]time.Time, k)
	for i, p := range plan {
		cls[i], orgs[i], att[i], capa[i] = p.ClassID, p.ProviderOrgID, int64(p.Attempt), int64(len(p.Candidates))
		regs[i], places[i], kinds[i] = p.Region, p.Place, string(p.Kind)
		starts[i], ends[i] = p.Slot.Start, p.Slot.End
	}
	cond := ""
	if firstOnly {
		cond = "WHERE NOT EXISTS (SELECT 1 FROM assessment_sittings AS x WHERE x.class_id = t.c AND x.kind = t.k)"
	}
	var made []plannedMade
	err := s.db.NewRaw(`INSERT INTO assessment_sittings (class_id, provider_org_id, region_code, kind, attempt, starts_at, ends_at, place, capacity, created_by_job)
		SELECT t.c, t.o, t.r, t.k, t.a, t.s, t.e, t.p, t.n, true
		  FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::timestamptz[], ?::timestamptz[], ?::text[], ?::bigint[])
		       AS t(c, o, r, k, a, s, e, p, n) `+cond+`
		ON CONFLICT (class_id, kind, attempt) DO NOTHING
		RETURNING id, class_id, kind, attempt`,
		pgArray(cls), pgArray(orgs), pgArray(regs), pgArray(kinds), pgArray(att), pgArray(starts), pgArray(ends), pgArray(places), pgArray(capa)).
		Scan(ctx, &made)
	if err != nil {
		return nil, fmt.Errorf("insert %d sittings: %w", k, err)
	}
	return made, nil
}

// CloseDue closes the scheduled sittings that started by now and whose
// candidates all have results or that ended before cutoff, and returns
// their IDs. Errors: none of its own (database failures only).
func (s Store) CloseDue(ctx context.Context, now, cutoff time.Time) ([]int64, error) {
	var ids []int64
	err := s.db.NewRaw(`UPDATE assessment_sittings AS s SET state = 'closed', closed_at = ?, updated_at = now()
		WHERE s.state = 'scheduled' AND s.starts_at <= ? AND (s.ends_at < ? OR NOT EXISTS (
			SELECT 1 FROM assessment_candidates AS c WHERE c.sitting_id = s.id
			   AND NOT EXISTS (SELECT 1 FROM assessment_results AS r WHERE r.sitting_id = c.sitting_id AND r.enrolment_id = c.enrolment_id)))
		RETURNING s.id`, now, now, cutoff).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("close sittings: %w", err)
	}
	return ids, nil
}

// RecordAbsences records every active candidate of the sittings without a
// result as absent. Errors: none of its own (database failures only).
func (s Store) RecordAbsences(ctx context.Context, sittingIDs []int64) error {
	if len(sittingIDs) == 0 {
		return nil
	}
	_, err := s.db.NewRaw(`INSERT INTO assessment_results (sitting_id, enrolment_id, worker_id, score, absent, passed)
		SELECT c.sitting_id, c.enrolment_id, c.worker_id, NULL, true, false FROM assessment_candidates AS c
		 WHERE c.sitting_id = ANY(?) AND c.active
		ON CONFLICT (sitting_id, enrolment_id) DO NOTHING`, pgArray(sittingIDs)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record absences of %d closed sittings: %w", len(sittingIDs), err)
	}
	return nil
}
