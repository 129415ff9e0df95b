package enrolment

import (
	"context"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/classes"
)

// Mine returns the caller's (a worker's) enrolments, newest class first;
// nothing for other roles. Errors: none of its own (database failures
// only).
func (s *Service) Mine(ctx context.Context, p *accounts.Principal) ([]View, error) {
	if !p.Is(accounts.RoleWorker) {
		return nil, nil
	}
	return NewStore(s.db).ViewsOfWorker(ctx, p.WorkerID)
}

// ClassRoster returns the class (if p may see it) and its enrolments: the
// enrolled and completed by name, then the waiting list in order, then
// those who left; a worker sees only their own. Errors: NotFound
// (class_not_found).
func (s *Service) ClassRoster(ctx context.Context, p *accounts.Principal, classID int64) (classes.Class, []View, error) {
	c, err := s.classes.Class(ctx, p, classID)
	if err != nil {
		return classes.Class{}, nil, err
	}
	var only int64
	if p.Is(accounts.RoleWorker) {
		only = p.WorkerID
	}
	views, err := NewStore(s.db).ViewsOfClass(ctx, classID, only)
	return c, views, err
}

// View returns one enrolment if p may see it: the worker themself, the
// class's provider, HR and regulators of the class's region, admins.
// Errors: NotFound (enrolment_not_found).
func (s *Service) View(ctx context.Context, p *accounts.Principal, enrolmentID int64) (View, error) {
	return NewStore(s.db).ViewForCaller(ctx, p, enrolmentID)
}

// Completions returns the completed enrolments with an id above afterID,
// at most limit, in id order: what certificates of plans that end with
// completion are issued from (catch-up and the demo). It serves no user,
// so it is not scoped. Errors: none of its own (database failures only).
func (s *Service) Completions(ctx context.Context, afterID int64, limit int) ([]Completion, error) {
	return NewStore(s.db).Completions(ctx, afterID, limit)
}

// Graduates returns a page of the enrolments of the graduates of p's
// college (f.Status narrows them when not empty) and their total, exact up
// to pg.ExactUpTo, else an estimate (estimate true); for any other caller,
// nothing. Errors: none of its own.
func (s *Service) Graduates(ctx context.Context, p *accounts.Principal, f GraduatesPage) ([]View, int, bool, error) {
	if !p.Is(accounts.RoleCollege) || p.OrgID == 0 {
		return []View{}, 0, false, nil
	}
	return NewStore(s.db).ViewsOfGraduates(ctx, p.OrgID, f)
}

// CompletionsWithout returns at most limit completed enrolments of plans
// without assessment that are not in sub-query except (those holding a
// certificate), for the certificates.issue catch-up. Not scoped: it serves
// no user. Errors: none of its own (database failures only).
func (s *Service) CompletionsWithout(ctx context.Context, except *bun.SelectQuery, limit int) ([]Completion, error) {
	return NewStore(s.db).CompletionsWithout(ctx, except, limit)
}
