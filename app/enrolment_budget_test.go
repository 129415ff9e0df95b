package app

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/classes"
)

// queryCounter counts the application's queries while on, leaving out the
// session bookkeeping of the auth middleware (written at most once a
// minute, so it would make two equal requests differ).
type queryCounter struct {
	on atomic.Bool
	n  atomic.Int64
}

func (q *queryCounter) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	return ctx
}
func (q *queryCounter) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	if q.on.Load() && !strings.Contains(e.Query, "sessions") {
		q.n.Add(1)
	}
}

func (q *queryCounter) measure(t *testing.T, c *client, path string) int64 {
	t.Helper()
	q.n.Store(0)
	q.on.Store(true)
	res, body := c.do("GET", path, nil)
	q.on.Store(false)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	return q.n.Load()
}

// TestEnrolmentQueryBudget: the class list, the roster (API and page) and
// the open-class search issue as many queries for 50 rows as for 5.
func TestEnrolmentQueryBudget(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	qc := &queryCounter{}
	a.DB.AddQueryHook(qc)
	p1 := login(t, "provider1")
	prov, err := a.Accounts.PrincipalByUsername(ctx, "provider1")
	if err != nil {
		t.Fatal(err)
	}
	day := func(n int) string { return time.Now().AddDate(0, 0, n).Format(time.DateOnly) }
	mk := func(start, capacity int) classes.Class {
		c, err := a.Classes.Create(ctx, &prov, classes.Input{PlanCode: "BYS-5", Name: fmt.Sprintf("预算测试班 %d", start),
			StartsOn: day(start), EndsOn: day(start + 2), Capacity: capacity, Region: "420106"})
		if err != nil {
			t.Fatal(err)
		}
		if c, err = a.Enrolment.Open(ctx, &prov, c.ID); err != nil {
			t.Fatal(err)
		}
		return c
	}
	small, big := mk(500, 60), mk(510, 60)
	ws := freeWorkers(t, 50)
	for i, w := range ws {
		if _, err := a.Enrolment.Enrol(ctx, &prov, big.ID, w); err != nil {
			t.Fatal(err)
		}
		if i < 5 {
			if _, err := a.Enrolment.Enrol(ctx, &prov, small.ID, w); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 50 {
		mk(600+3*i, 10)
	}
	p1.do("GET", "/api/v1/classes", nil) // warm up: session touched, templates parsed

	for _, pair := range [][2]string{
		{fmt.Sprintf("/api/v1/classes/%d/enrolments", small.ID), fmt.Sprintf("/api/v1/classes/%d/enrolments?per_page=200", big.ID)},
		{fmt.Sprintf("/classes/%d", small.ID), fmt.Sprintf("/classes/%d", big.ID)},
		{fmt.Sprintf("/classes/%d/lessons", small.ID), fmt.Sprintf("/classes/%d/lessons", big.ID)},
		{"/api/v1/classes?per_page=5", "/api/v1/classes?per_page=50"},
		{"/classes?per_page=5", "/classes?per_page=50"},
		{"/api/v1/classes/search?per_page=5", "/api/v1/classes/search?per_page=50"},
		{"/classes/search?per_page=5", "/classes/search?per_page=50"},
	} {
		few, many := qc.measure(t, p1, pair[0]), qc.measure(t, p1, pair[1])
		if few != many || few > 12 || few == 0 {
			t.Errorf("%s: %d queries; %s: %d; want equal, counted, at most 12", pair[0], few, pair[1], many)
		}
	}
}
