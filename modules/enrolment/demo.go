package enrolment

import (
	"context"
	"fmt"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
)

// at returns a copy of the service whose clock reads t, for building past
// classes in the demo world through the same use cases as production.
func (s *Service) at(t time.Time) *Service {
	c := *s
	c.now = func() time.Time { return t }
	return &c
}

// demoClass is one class of the demo world, dated relative to today.
type demoClass struct {
	plan       string
	name       string
	start, end int // days from today
	capacity   int
	state      State
	workers    int  // how many demo workers enrol
	hours      bool // record attendance
}

var demoClasses = []demoClass{
	{"BYS-GQ", "%s 保育师岗前培训（已结业班）", -70, -50, 30, StateCompleted, 12, true},
	{"BYS-ZG", "%s 保育师在岗培训（培训中）", -6, 8, 30, StateRunning, 10, true},
	{"BYS-GQ", "%s 保育师岗前培训（报名中）", 21, 40, 30, StateOpen, 8, false},
	{"YYY-5", "%s 育婴员五级培训（名额已满）", 28, 45, 4, StateOpen, 6, false},
	{"BYS-4", "%s 保育师四级培训（筹备中）", 60, 80, 40, StateDraft, 0, false},
	{"FZR-GW", "%s 托育机构负责人岗位培训（已取消）", 50, 55, 20, StateCancelled, 3, false},
}

// SeedDemo adds the demo classes (DESIGN §5.5): for provider1 (武汉) and
// provider2 (宜昌) a class in every state, demo workers enrolled (worker1
// in 武汉's completed and open classes), attendance with completions, and
// a few graduates on a plan waiting list. principal looks up a demo login.
// It does nothing when provider1 already has classes.
func (s *Service) SeedDemo(ctx context.Context, principal func(context.Context, string) (accounts.Principal, error)) error {
	p1, err := principal(ctx, "provider1")
	if err != nil {
		return fmt.Errorf("demo provider1: %w", err)
	}
	if n, err := s.db.NewSelect().Table("classes").Where("provider_org_id = ?", p1.OrgID).Count(ctx); err != nil || n > 0 {
		return err
	}
	p2, err := principal(ctx, "provider2")
	if err != nil {
		return fmt.Errorf("demo provider2: %w", err)
	}
	var worker1 int64
	if w1, err := principal(ctx, "worker1"); err == nil {
		worker1 = w1.WorkerID
	}
	var pool []int64
	err = s.db.NewSelect().Table("workers").Column("id").Where("NOT banned AND id <> ?", worker1).
		OrderExpr("id").Limit(120).Scan(ctx, &pool)
	if err != nil {
		return fmt.Errorf("demo workers: %w", err)
	}
	today := s.today()
	next := 0
	take := func(n int) []int64 {
		var out []int64
		for ; n > 0 && next < len(pool); n-- {
			out = append(out, pool[next])
			next++
		}
		return out
	}
	for _, prov := range []struct {
		p      accounts.Principal
		city   string
		region string
		place  string
	}{
		{p1, "武汉", "420106", "武汉市武昌区中北路托育实训基地"},
		{p2, "宜昌", "420502", "宜昌市西陵区夷陵大道实训楼"},
	} {
		p := prov.p
		for _, dc := range demoClasses {
			ws := take(dc.workers)
			if prov.city == "武汉" && worker1 != 0 && (dc.state == StateCompleted || dc.plan == "BYS-GQ" && dc.state == StateOpen) {
				ws = append([]int64{worker1}, ws...)
			}
			if err := s.seedClass(ctx, &p, prov.city, prov.region, prov.place, dc, ws, today); err != nil {
				return fmt.Errorf("demo class %s: %w", fmt.Sprintf(dc.name, prov.city), err)
			}
		}
	}
	// Graduates whose roster named 托育机构负责人岗位培训, which no class of
	// 宜昌 offers yet: they wait on the plan's list.
	for _, w := range take(3) {
		if _, err := s.EnrolFromRoster(ctx, s.db, RosterRequest{WorkerID: w, PlanCode: "FZR-GW", CollegeRegion: "420500"}); err != nil {
			return fmt.Errorf("demo plan waiting list: %w", err)
		}
	}
	return nil
}

func (s *Service) seedClass(ctx context.Context, p *accounts.Principal, city, region, place string, dc demoClass, ws []int64, today time.Time) error {
	day := func(n int) time.Time { return today.AddDate(0, 0, n).Add(2 * time.Hour) }
	// Built as it would have happened: created and opened a month before
	// the start, enrolled, started on the first day, finished on the last.
	early := s.at(day(min(dc.start-30, -1)))
	c, err := early.CreateClass(ctx, p, ClassInput{PlanCode: dc.plan, Name: fmt.Sprintf(dc.name, city),
		StartsOn: day(dc.start).Format(time.DateOnly), EndsOn: day(dc.end).Format(time.DateOnly),
		Capacity: dc.capacity, Region: region, Place: place})
	if err != nil {
		return err
	}
	if dc.state == StateDraft {
		return nil
	}
	if c, err = early.Open(ctx, p, c.ID); err != nil {
		return err
	}
	for _, w := range ws {
		// The demo holds no ID numbers in clear, so it skips the check that a
		// provider enrolling by worker ID already has the worker in scope.
		if _, err := early.enrolAs(ctx, p, c.ID, target{workerID: w, trusted: true}); err != nil && !apperr.Is(err, "class_overlap") {
			return err
		}
	}
	switch dc.state {
	case StateCancelled:
		_, err = early.Cancel(ctx, p, c.ID, "报名人数不足，合并至下期开班")
		return err
	case StateOpen:
		return nil
	}
	if _, err := s.at(day(dc.start)).Start(ctx, p, c.ID); err != nil {
		return err
	}
	if dc.hours {
		recorder := s // hours of a finished class were complete on its last day
		if dc.state == StateCompleted {
			recorder = s.at(day(dc.end))
		}
		// The last two enrolled fall ill in a finished class; worker1, first,
		// always completes.
		ill := map[int64]bool{}
		if len(ws) > 3 {
			for _, w := range ws[len(ws)-2:] {
				ill[w] = true
			}
		}
		if err := recorder.seedHours(ctx, p, c, dc.state == StateCompleted, ill); err != nil {
			return err
		}
	}
	if dc.state == StateCompleted {
		_, err = s.at(day(dc.end)).Finish(ctx, p, c.ID)
	}
	return err
}

// seedHours records attendance: in a finished class everyone but the ill
// completes; in a running class everyone is half way through each required
// course.
func (s *Service) seedHours(ctx context.Context, p *accounts.Principal, c Class, finished bool, ill map[int64]bool) error {
	_, roster, err := s.ClassRoster(ctx, p, c.ID)
	if err != nil {
		return err
	}
	var entries []AttendanceEntry
	for _, v := range roster {
		if v.Status != StatusEnrolled {
			continue
		}
		for i, cp := range v.Progress.Courses {
			h := cp.Max
			switch {
			case !finished && cp.Required == 0:
				continue
			case !finished:
				h = cp.Required / 2 // half way through the class
			case ill[v.WorkerID] && i == 0:
				h = cp.Required / 2 // fell ill: one course short
			}
			entries = append(entries, AttendanceEntry{Row: len(entries) + 1, EnrolmentID: v.ID, CourseID: cp.CourseID, Hours: h})
		}
	}
	if len(entries) == 0 {
		return nil
	}
	_, err = s.RecordAttendance(ctx, p, c.ID, entries, AttendanceForm)
	return err
}
