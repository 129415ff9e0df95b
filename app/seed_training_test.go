package app

import (
	"context"
	"testing"

	"tuoyu/app/seed"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
)

// TestSeedDemoTraining: the demo world holds, for each demo provider, a
// class in every state; worker1 completed one class and is enrolled in an
// open one; there are completions, waitlisted places and graduates on a
// plan waiting list; and seeding again adds nothing.
func TestSeedDemoTraining(t *testing.T) {
	a := testApp(t) // seeded once per package
	ctx := context.Background()
	if err := a.SeedDemo(ctx); err != nil { // idempotent
		t.Fatal(err)
	}
	// Other tests of this package add classes for the demo providers, so
	// the demo's are found by name; each must exist once, in its state.
	for _, prov := range []struct{ login, city string }{{"provider1", "武汉"}, {"provider2", "宜昌"}} {
		p, err := a.Accounts.PrincipalByUsername(ctx, prov.login)
		if err != nil {
			t.Fatal(err)
		}
		cs, _, err := a.Classes.Classes(ctx, &p, classes.Filter{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string][]classes.State{}
		for _, c := range cs {
			byName[c.Name] = append(byName[c.Name], c.State)
		}
		states := map[classes.State]int{}
		for name, want := range seed.DemoClassStates(prov.city) {
			if got := byName[name]; len(got) != 1 || got[0] != want {
				t.Errorf("%s: demo class %s in states %v, want once in %s", prov.login, name, got, want)
			}
			states[want]++
		}
		for _, s := range classes.States {
			if states[s] == 0 {
				t.Errorf("%s has no %s class", prov.login, s)
			}
		}
	}
	w1, err := a.Accounts.PrincipalByUsername(ctx, "worker1")
	if err != nil {
		t.Fatal(err)
	}
	mine, err := a.Enrolment.Mine(ctx, &w1)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[enrolment.Status]bool{}
	for _, v := range mine {
		statuses[v.Status] = true
	}
	if !statuses[enrolment.StatusCompleted] || !statuses[enrolment.StatusEnrolled] {
		t.Errorf("worker1 enrolments %v, want one completed and one enrolled", statuses)
	}
	var completed, waitlisted, waiting int
	if err := a.DB.NewRaw("SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'waitlisted') FROM enrolments").Scan(ctx, &completed, &waitlisted); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.NewRaw("SELECT count(*) FROM plan_waitlist WHERE status = 'waiting'").Scan(ctx, &waiting); err != nil {
		t.Fatal(err)
	}
	if completed < 10 || waitlisted == 0 || waiting == 0 {
		t.Errorf("demo has %d completions, %d waitlisted, %d on plan lists", completed, waitlisted, waiting)
	}
}
