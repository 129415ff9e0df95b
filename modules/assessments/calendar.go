package assessments

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
)

func errFeedNotFound() *apperr.Error {
	return apperr.NotFound("feed_not_found", "日历订阅地址无效或已重置")
}

// ResetCalendarToken gives the calling worker a new calendar-feed token and
// returns it; the old one stops working. Only its SHA-256 is stored.
// Errors: apperr.Forbidden (workers_only).
func (s *Service) ResetCalendarToken(ctx context.Context, p *accounts.Principal) (string, error) {
	if !p.Is(accounts.RoleWorker) || p.WorkerID == 0 {
		return "", apperr.Forbidden("workers_only", "只有学员有日历订阅")
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("calendar token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	if err := NewStore(s.db).SaveCalendarToken(ctx, p.WorkerID, sum[:]); err != nil {
		return "", err
	}
	if err := audit.Record(ctx, s.db, audit.Event{Action: "assessments.calendar_token", TargetType: "worker", TargetID: itoa(p.WorkerID)}); err != nil {
		return "", err
	}
	return token, nil
}

// HasCalendarToken reports whether the worker has a feed token.
func (s *Service) HasCalendarToken(ctx context.Context, workerID int64) (bool, error) {
	return NewStore(s.db).HasCalendarToken(ctx, workerID)
}

// CalendarFeed renders the feed of the worker owning token: one all-day
// event per day of each class they are in, one timed event per sitting.
// Errors: apperr.NotFound (feed_not_found).
func (s *Service) CalendarFeed(ctx context.Context, token string) ([]byte, error) {
	if token == "" || len(token) > 100 {
		return nil, errFeedNotFound()
	}
	sum := sha256.Sum256([]byte(token))
	workerID, err := NewStore(s.db).WorkerOfToken(ctx, sum[:])
	if err != nil {
		return nil, err
	}
	if workerID == 0 {
		return nil, errFeedNotFound()
	}
	events, err := s.events(ctx, workerID)
	if err != nil {
		return nil, err
	}
	return ICS("托育培训与考核", events, s.now()), nil
}

func (s *Service) events(ctx context.Context, workerID int64) ([]Event, error) {
	views, err := workerEnrolments(ctx, s.db, workerID)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, v := range views {
		for d := dateOf(v.StartsOn); !d.After(dateOf(v.EndsOn)); d = d.AddDate(0, 0, 1) {
			out = append(out, Event{UID: fmt.Sprintf("class-%d-%s@tuoyu", v.ClassID, d.Format("20060102")),
				Summary: "培训：" + v.ClassName, Location: v.Place, Start: d, AllDay: true})
		}
	}
	sits, err := NewStore(s.db).WorkerSittings(ctx, workerID)
	if err != nil {
		return nil, err
	}
	for _, st := range sits {
		out = append(out, Event{UID: fmt.Sprintf("sitting-%d@tuoyu", st.ID),
			Summary: fmt.Sprintf("%s考核(第%d次)", st.Kind.Label(), st.Attempt), Location: st.Place, Start: st.StartsAt, End: st.EndsAt})
	}
	return out, nil
}

// MyAssessments returns the worker's enrolments with outcome and results,
// and their sittings (scheduled and past, not cancelled).
func (s *Service) MyAssessments(ctx context.Context, p *accounts.Principal) ([]EnrolmentOutcome, []WorkerSitting, error) {
	if !p.Is(accounts.RoleWorker) {
		return nil, nil, apperr.Forbidden("workers_only", "只有学员有“我的考核”")
	}
	outs, err := s.WorkerResults(ctx, p, p.WorkerID)
	if err != nil {
		return nil, nil, err
	}
	sits, err := NewStore(s.db).WorkerSittings(ctx, p.WorkerID)
	return outs, sits, err
}
