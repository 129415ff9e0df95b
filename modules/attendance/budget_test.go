package attendance_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"tuoyu/modules/attendance"
	"tuoyu/modules/attendance/attendancetest"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
)

// counter is a bun query hook that counts the queries of one *bun.DB.
type counter struct{ n atomic.Int64 }

func (c *counter) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context { return ctx }
func (c *counter) AfterQuery(ctx context.Context, e *bun.QueryEvent)                  { c.n.Add(1) }

// count returns how many queries fn issued.
func (c *counter) count(t *testing.T, fn func() error) int64 {
	t.Helper()
	before := c.n.Load()
	if err := fn(); err != nil {
		t.Fatal(err)
	}
	return c.n.Load() - before
}

// TestQueryBudget checks that every list the pages and API serve issues the
// same number of queries for 5 rows as for 50: no query per row.
func TestQueryBudget(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// A second handle on the same pool, with the counting hook, so other
	// tests' queries are not counted.
	hooked := bun.NewDB(w.DB.DB, pgdialect.New())
	cnt := &counter{}
	hooked.AddQueryHook(cnt)
	cat := catalog.NewService(hooked)
	svc := attendancetest.NewServices(hooked, cat, w.Cipher, w.Svc.Now())

	small := w.Class(w.ProviderA, "BYS-GQ", "420106", "2027-08-01", 10, 60)
	big := w.Class(w.ProviderA, "BYS-GQ", "420106", "2027-09-01", 10, 60)
	var firstWorker attendancetest.Worker
	var many []attendancetest.Worker
	for i := range 50 {
		x := w.RegisteredBy(w.ProviderA, w.Worker())
		if i == 0 {
			firstWorker = x
		}
		many = append(many, x)
		_, err := w.Svc.Enrol(ctx, w.ProviderA, big.ID, x.ID)
		w.Must(err)
		if i < 5 {
			_, err := w.Svc.Enrol(ctx, w.ProviderA, small.ID, x.ID)
			w.Must(err)
		}
	}
	// Hours for everyone in the big class, so progress has rows to read.
	w.Start(w.ProviderA, big)
	_, roster, err := w.Svc.ClassRoster(ctx, w.ProviderA, big.ID)
	w.Must(err)
	var present []int64
	for _, v := range roster {
		present = append(present, v.ID)
	}
	_, err = w.At("2027-09-01").RecordLesson(ctx, w.ProviderA, big.ID, attendance.LessonInput{Date: "2027-09-01",
		CourseCode: roster[0].Progress.Courses[0].Code, Hours: 10, Present: present})
	w.Must(err)

	roster5 := cnt.count(t, func() error { _, _, err := svc.ClassRoster(ctx, w.ProviderA, small.ID); return err })
	roster50 := cnt.count(t, func() error { _, _, err := svc.ClassRoster(ctx, w.ProviderA, big.ID); return err })
	if roster5 != roster50 || roster5 > 8 {
		t.Errorf("class roster: %d queries for 5 rows, %d for 50; want equal and at most 8", roster5, roster50)
	}

	// Classes lists: a page of 5 and a page of 50 of provider A's classes.
	for range 50 {
		w.Draft(w.ProviderA, "BYS-ZG", "420106", "2028-01-01", 3, 10)
	}
	list5 := cnt.count(t, func() error {
		_, _, err := svc.Classes(ctx, w.ProviderA, classes.Filter{Limit: 5})
		return err
	})
	list50 := cnt.count(t, func() error {
		cs, _, err := svc.Classes(ctx, w.ProviderA, classes.Filter{Limit: 50})
		if err == nil && len(cs) != 50 {
			t.Errorf("page of 50 has %d classes", len(cs))
		}
		return err
	})
	if list5 != list50 {
		t.Errorf("class list: %d queries for 5 rows, %d for 50", list5, list50)
	}
	open5 := cnt.count(t, func() error { _, _, err := svc.OpenClasses(ctx, classes.Filter{Limit: 5}); return err })
	open50 := cnt.count(t, func() error { _, _, err := svc.OpenClasses(ctx, classes.Filter{Limit: 50}); return err })
	if open5 != open50 {
		t.Errorf("open classes: %d queries for 5 rows, %d for 50", open5, open50)
	}

	// A worker's own classes: one enrolment against many (in classes that
	// do not overlap).
	for i := range 10 {
		c := w.Class(w.ProviderB, "BYS-5", "420502", "2028-0"+string(rune('1'+i%9))+"-1"+string(rune('0'+i/9)), 1, 5)
		_, err := w.Svc.Enrol(ctx, firstWorker.P, c.ID, 0)
		w.Must(err)
	}
	mine1 := cnt.count(t, func() error { _, err := svc.MyEnrolments(ctx, many[49].P); return err })
	mineMany := cnt.count(t, func() error {
		vs, err := svc.MyEnrolments(ctx, firstWorker.P)
		if err == nil && len(vs) != 12 {
			t.Errorf("first worker has %d enrolments, want 12", len(vs))
		}
		return err
	})
	if mine1 != mineMany {
		t.Errorf("my classes: %d queries for 1 row, %d for 12", mine1, mineMany)
	}
	plans := cnt.count(t, func() error { _, err := cat.Plans(ctx); return err })
	if plans > 4 {
		t.Errorf("plans list: %d queries, want at most 4", plans)
	}
}
