package attendance

import (
	"context"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/enrolment"
)

// Outcome is what a module above attendance (assessments) says about an
// enrolment after its hours: a short label for people ("理论 82 分，实操 75
// 分，通过") and whether it passed, nil while undecided.
type Outcome struct {
	Label  string `json:"label"`
	Passed *bool  `json:"passed"`
}

// OutcomeFunc returns the outcomes of the given enrolments (absent ones
// have none yet), in a fixed number of queries.
type OutcomeFunc func(ctx context.Context, idb bun.IDB, enrolmentIDs []int64) (map[int64]Outcome, error)

// SetOutcomes lets a higher module report assessment outcomes on the
// graduates' progress without attendance importing it; the composition root
// calls it once while wiring, before serving.
func (s *Service) SetOutcomes(fn OutcomeFunc) { s.outcomes = fn }

// Graduate is one enrolment of a college's graduate as the college sees it,
// read-only: the class, the hours by category, completion and, once an
// assessment module reports it, the outcome.
type Graduate struct {
	Enrolment
	Outcome *Outcome `json:"outcome"`
}

// Graduates returns a page of the enrolments of the graduates of p's
// college with their progress and outcomes, and their total (exact up to
// pg.ExactUpTo, else an estimate: estimate true); f.Status narrows them
// when not empty. Anyone but a college gets nothing. Errors: none of its
// own (database failures only).
func (s *Service) Graduates(ctx context.Context, p *accounts.Principal, f enrolment.GraduatesPage) (gs []Graduate, total int, estimate bool, err error) {
	views, total, estimate, err := s.enrolment.Graduates(ctx, p, f)
	if err != nil {
		return nil, 0, false, err
	}
	es, err := s.withProgress(ctx, s.db, views)
	if err != nil {
		return nil, 0, false, err
	}
	var outcomes map[int64]Outcome
	if s.outcomes != nil && len(es) > 0 {
		ids := make([]int64, 0, len(es))
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		if outcomes, err = s.outcomes(ctx, s.db, ids); err != nil {
			return nil, 0, false, err
		}
	}
	out := make([]Graduate, 0, len(es))
	for _, e := range es {
		g := Graduate{Enrolment: e}
		if o, ok := outcomes[e.ID]; ok {
			g.Outcome = &o
		}
		out = append(out, g)
	}
	return out, total, estimate, nil
}
