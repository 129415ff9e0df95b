package enrolment_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/attendance/attendancetest"
	"tuoyu/modules/classes"
	"tuoyu/modules/pg"
	"tuoyu/modules/pg/pgtest"
)

// scaleClasses is the size of the classes table the plan guard runs on:
// large enough that a sequential scan is a real choice for the planner and
// a wrong one.
const scaleClasses = 100_000

// classScale is a world of scaleClasses classes over Wuhan's districts,
// Yichang and Xiangyang in every state, most of them run by eight big
// providers (providerA among them), 100 by providerB, and a worker holding places in three.
type classScale struct {
	*world
	hrProvince, hrCity, hrDistrict *accounts.Principal
	member                         attendancetest.Worker
}

func newClassScale(t *testing.T) *classScale {
	t.Helper()
	w := &classScale{world: newWorld(t)}
	w.hrProvince = w.Staff(accounts.RoleHRReviewer, "hr_bureau", "420000")
	w.hrCity = w.Staff(accounts.RoleHRApprover, "hr_bureau", "420100")
	w.hrDistrict = w.Staff(accounts.RoleRegulator, "regulator", "420102")
	big := []int64{w.ProviderA.OrgID}
	for range 7 {
		big = append(big, w.Staff(accounts.RoleProvider, "provider", "420100").OrgID)
	}
	// The worker's places, through the use cases (they are what the
	// worker's scope reads), before the bulk so their ids are small.
	w.member = w.Worker()
	for i := range 3 {
		c := w.Class(w.ProviderA, "BYS-GQ", "420106", fmt.Sprintf("2027-0%d-01", i+2), 5, 30)
		if _, err := w.Svc.Enrol(context.Background(), w.member.P, c.ID, w.member.ID); err != nil {
			t.Fatal(err)
		}
	}
	const batch = 5_000
	for from := 1; from <= scaleClasses; from += batch {
		w.exec(`INSERT INTO classes (provider_org_id, plan_id, name, starts_on, ends_on, region_code, capacity, state, cancelled_at)
		SELECT CASE WHEN g % 1000 = 0 THEN ?::bigint ELSE (?::bigint[])[1 + g % 8] END,
		       (SELECT array_agg(id ORDER BY id) FROM plans)[1 + g % 9],
		       '规模班 ' || g, DATE '2023-01-01' + g % 1800, DATE '2023-01-01' + g % 1800 + 10,
		       (ARRAY['420102','420106','420111','420115','420502','420506','420602','420607','420102','420106'])[1 + (g / 7) % 10],
		       30, s.state, CASE WHEN s.state = 'cancelled' THEN now() END
		FROM generate_series(?::int, ?::int) AS g,
		     LATERAL (SELECT (ARRAY['completed','completed','completed','completed','completed','completed',
		                            'cancelled','running','open','draft'])[1 + g % 10] AS state) AS s`,
			w.ProviderB.OrgID, bigArray(big), from, from+batch-1)
	}
	w.exec(`ANALYZE classes; ANALYZE enrolments`)
	return w
}

func bigArray(ids []int64) string {
	s := "{"
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(id)
	}
	return s + "}"
}

func (w *classScale) exec(q string, args ...any) {
	w.T.Helper()
	if _, err := w.DB.NewRaw(q, args...).Exec(context.Background()); err != nil {
		w.T.Fatalf("%s: %v", q, err)
	}
}

// TestClassListsAtScale builds one 100 000-class world for the plan guard
// and the cursor checks of the classes lists and the class search.
func TestClassListsAtScale(t *testing.T) {
	w := newClassScale(t)
	t.Run("plans", func(t *testing.T) { testClassPlans(t, w) })
	t.Run("cursor", func(t *testing.T) { testClassCursor(t, w) })
}

// testClassPlans is the cheap guard of issue 14 for the classes lists:
// every role's list (first page, a state, a plan, a deep page by number, a
// page after a cursor, and its total) and the search (all, a city, after a
// cursor) and a worker's enrolments are planned on an index at 100 000
// classes. It fails when a change of query or index makes any of them read
// the whole table. (Enrolments stay few here: the plans that start from a
// worker's enrolments read them by the enrolments_once key.)
func testClassPlans(t *testing.T, w *classScale) {
	log := &pgtest.QueryLog{}
	w.DB.AddQueryHook(log)
	ctx := context.Background()
	roles := map[string]*accounts.Principal{
		"admin": w.Admin, "hr_province": w.hrProvince, "hr_city": w.hrCity, "regulator_district": w.hrDistrict,
		"provider_big": w.ProviderA, "provider_small": w.ProviderB, "worker": w.member.P,
	}
	after := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	filters := []classes.Filter{
		{Limit: 21},
		{State: classes.StateCompleted, Limit: 21},
		{PlanCode: "BYS-4", Limit: 21},
		{Limit: 51, Offset: 100},
		{Limit: 21, AfterStartsOn: after, AfterID: 50_000},
	}
	for name, p := range roles {
		for _, f := range filters {
			n := pgtest.Guard(t, w.DB, log, fmt.Sprintf("%s %+v", name, f), func() error {
				cs, total, _, err := w.Svc.Browse(ctx, p, f)
				if err == nil && f.State == "" && f.PlanCode == "" && f.AfterID == 0 && f.Offset == 0 && (len(cs) == 0 || total == 0) {
					t.Errorf("%s: empty list: the world does not test this scope", name)
				}
				return err
			}, "classes")
			if n == 0 {
				t.Fatalf("%s: no query seen", name)
			}
		}
	}
	for _, f := range []classes.Filter{{Limit: 21}, {Region: "420500", Limit: 21}, {Limit: 21, AfterStartsOn: after, AfterID: 50_000}} {
		pgtest.Guard(t, w.DB, log, fmt.Sprintf("search %+v", f), func() error {
			_, _, _, err := w.Svc.Search(ctx, f)
			return err
		}, "classes")
	}
	pgtest.Guard(t, w.DB, log, "worker's enrolments", func() error {
		_, err := w.Svc.MyEnrolments(ctx, w.member.P)
		return err
	}, "classes")
}

// testClassCursor: following next cursors visits every class of a scope
// once, in the list's order, for the staff list (newest first) and the
// search (soonest first); the total is exact for a small scope and an
// estimate for the province.
func testClassCursor(t *testing.T, w *classScale) {
	ctx := context.Background()
	_, total, estimate, err := w.Svc.Browse(ctx, w.Admin, classes.Filter{Limit: 21})
	if err != nil {
		t.Fatal(err)
	}
	if !estimate || total < scaleClasses*8/10 || total > scaleClasses*12/10 {
		t.Errorf("admin total = %d (estimate %v), want an estimate near %d", total, estimate, scaleClasses)
	}
	walk := func(name string, list func(f classes.Filter) ([]classes.Class, int, bool, error)) {
		all, total, estimate, err := list(classes.Filter{Limit: 10_000})
		if err != nil || estimate || total != len(all) || total < 50 {
			t.Fatalf("%s: whole list %d rows, total %d (estimate %v, %v)", name, len(all), total, estimate, err)
		}
		var seen []int64
		f := classes.Filter{Limit: 8} // 7 a page, one more tells there is a next
		for pages := 0; ; pages++ {
			if pages > total/7+2 {
				t.Fatalf("%s: cursor walk does not end after %d pages", name, pages)
			}
			cs, _, _, err := list(f)
			if err != nil {
				t.Fatal(err)
			}
			more := len(cs) > 7
			if more {
				cs = cs[:7]
			}
			for _, c := range cs {
				seen = append(seen, c.ID)
			}
			if !more {
				break
			}
			f.AfterStartsOn, f.AfterID = cs[6].StartsOn, cs[6].ID
		}
		if len(seen) != len(all) {
			t.Fatalf("%s: cursor walk saw %d classes, the whole list has %d", name, len(seen), len(all))
		}
		for i := range all {
			if seen[i] != all[i].ID {
				t.Fatalf("%s: row %d: cursor walk has class %d, the whole list %d", name, i, seen[i], all[i].ID)
			}
		}
	}
	walk("provider_small", func(f classes.Filter) ([]classes.Class, int, bool, error) {
		return w.Svc.Browse(ctx, w.ProviderB, f)
	})
	walk("search 420502", func(f classes.Filter) ([]classes.Class, int, bool, error) {
		f.Region = "420502"
		return w.Svc.Search(ctx, f)
	})
	if pg.ExactUpTo != 10_000 {
		t.Errorf("ExactUpTo = %d: DESIGN and the API docs say 10 000", pg.ExactUpTo)
	}
}
