package enrolment_test

import (
	"context"
	"fmt"
	"testing"

	"tuoyu/modules/accounts"
	"tuoyu/modules/enrolment"
)

func TestSeedDemo(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// The demo logins the seed looks up: provider1, provider2, worker1.
	logins := map[string]accounts.Principal{
		"provider1": *w.staff(accounts.RoleProvider, "provider", "420100"),
		"provider2": *w.staff(accounts.RoleProvider, "provider", "420500"),
	}
	w1 := w.worker()
	logins["worker1"] = *w1.P
	for range 90 {
		w.worker()
	}
	principal := func(_ context.Context, u string) (accounts.Principal, error) {
		p, ok := logins[u]
		if !ok {
			return accounts.Principal{}, fmt.Errorf("no login %s", u)
		}
		return p, nil
	}
	w.must(w.svc.SeedDemo(ctx, principal))
	w.must(w.svc.SeedDemo(ctx, principal)) // idempotent

	for _, name := range []string{"provider1", "provider2"} {
		p := logins[name]
		cs, total, err := w.svc.Classes(ctx, &p, enrolment.ClassFilter{Limit: 100})
		w.must(err)
		if total != 6 {
			t.Errorf("%s has %d demo classes, want 6", name, total)
		}
		states := map[enrolment.State]int{}
		for _, c := range cs {
			states[c.State]++
		}
		for _, s := range []enrolment.State{enrolment.StateDraft, enrolment.StateOpen, enrolment.StateRunning, enrolment.StateCompleted, enrolment.StateCancelled} {
			if states[s] == 0 {
				t.Errorf("%s has no %s class", name, s)
			}
		}
	}
	mine, err := w.svc.MyEnrolments(ctx, w1.P)
	w.must(err)
	statuses := map[enrolment.Status]bool{}
	for _, v := range mine {
		statuses[v.Status] = true
	}
	if !statuses[enrolment.StatusCompleted] || !statuses[enrolment.StatusEnrolled] {
		t.Errorf("worker1 enrolments %v, want one completed and one enrolled", statuses)
	}
	var completed, waitlisted, waiting int
	w.must(w.db.NewRaw("SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'waitlisted') FROM enrolments").Scan(ctx, &completed, &waitlisted))
	w.must(w.db.NewRaw("SELECT count(*) FROM plan_waitlist WHERE status = 'waiting'").Scan(ctx, &waiting))
	if completed < 10 || waitlisted == 0 || waiting == 0 {
		t.Errorf("demo has %d completions, %d waitlisted, %d on plan lists", completed, waitlisted, waiting)
	}
}
