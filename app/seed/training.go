package seed

import (
	"context"
	"fmt"
	"sort"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/attendance"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/workers"
)

// training gives the training seed's helpers the services as fields.
type training struct{ Services }

// The training part of the demo world (DESIGN §5.5): classes in every
// state for provider1 (武汉) and provider2 (宜昌), demo workers enrolled,
// hours with completions, and graduates on a plan waiting list. It is built
// through the classes, enrolment and attendance services, with their clocks
// set to the days things would have happened, so the demo passes the same
// rules as users.

// demoClass is one class of the demo world, dated relative to today.
type demoClass struct {
	plan       string
	name       string
	start, end int // days from today
	capacity   int
	state      classes.State
	workers    int  // how many demo workers enrol
	hours      bool // record attendance
}

var demoClasses = []demoClass{
	{"BYS-GQ", "%s 保育师岗前培训（已结业班）", -70, -50, 30, classes.StateCompleted, 12, true},
	{"BYS-ZG", "%s 保育师在岗培训（培训中）", -6, 8, 30, classes.StateRunning, 10, true},
	{"BYS-GQ", "%s 保育师岗前培训（报名中）", 21, 40, 30, classes.StateOpen, 8, false},
	{"YYY-5", "%s 育婴员五级培训（名额已满）", 28, 45, 4, classes.StateOpen, 6, false},
	{"BYS-4", "%s 保育师四级培训（筹备中）", 60, 80, 40, classes.StateDraft, 0, false},
	{"FZR-GW", "%s 托育机构负责人岗位培训（已取消）", 50, 55, 20, classes.StateCancelled, 3, false},
}

// DemoClassStates names the demo classes of city with the state each is
// seeded in, for tests that check the demo world.
func DemoClassStates(city string) map[string]classes.State {
	m := make(map[string]classes.State, len(demoClasses))
	for _, dc := range demoClasses {
		m[fmt.Sprintf(dc.name, city)] = dc.state
	}
	return m
}

// demoPerson is a demo worker with the full ID number a provider enrols
// them by (the person is "in front of" the provider).
type demoPerson struct {
	id       int64
	idNumber string
}

// Training adds the demo classes: worker1 in 武汉's completed and
// open classes. It does nothing when provider1 already has classes.
func Training(ctx context.Context, s Services) error {
	a := training{s}
	p1, err := a.Accounts.PrincipalByUsername(ctx, "provider1")
	if err != nil {
		return fmt.Errorf("demo provider1: %w", err)
	}
	if _, n, err := a.Classes.Classes(ctx, &p1, classes.Filter{Limit: 1}); err != nil || n > 0 {
		return err
	}
	p2, err := a.Accounts.PrincipalByUsername(ctx, "provider2")
	if err != nil {
		return fmt.Errorf("demo provider2: %w", err)
	}
	worker1, pool, err := a.demoPeople(ctx, 120)
	if err != nil {
		return err
	}
	today := a.Classes.Today()
	next := 0
	take := func(n int) []demoPerson {
		var out []demoPerson
		for ; n > 0 && next < len(pool); n-- {
			out = append(out, pool[next])
			next++
		}
		return out
	}
	for _, prov := range []struct {
		p                   accounts.Principal
		city, region, place string
	}{
		{p1, "武汉", "420106", "武汉市武昌区中北路托育实训基地"},
		{p2, "宜昌", "420502", "宜昌市西陵区夷陵大道实训楼"},
	} {
		for _, dc := range demoClasses {
			ws := take(dc.workers)
			if prov.city == "武汉" && worker1.id != 0 && (dc.state == classes.StateCompleted || dc.plan == "BYS-GQ" && dc.state == classes.StateOpen) {
				ws = append([]demoPerson{worker1}, ws...)
			}
			p := prov.p
			if err := a.seedDemoClass(ctx, &p, prov.city, prov.region, prov.place, dc, ws, today); err != nil {
				return fmt.Errorf("demo class %s: %w", fmt.Sprintf(dc.name, prov.city), err)
			}
		}
	}
	// Graduates whose roster named 托育机构负责人岗位培训, which no class of
	// 宜昌 offers yet: they wait on the plan's list.
	for _, w := range take(3) {
		if _, err := a.Enrolment.EnrolFromRoster(ctx, a.DB, enrolment.RosterRequest{WorkerID: w.id, PlanCode: "FZR-GW", CollegeRegion: "420500"}); err != nil {
			return fmt.Errorf("demo plan waiting list: %w", err)
		}
	}
	return nil
}

// demoPeople returns worker1 and up to n other unbanned demo workers in
// the order they were registered, with their ID numbers.
func (a training) demoPeople(ctx context.Context, n int) (worker1 demoPerson, pool []demoPerson, err error) {
	admin, err := a.Accounts.PrincipalByUsername(ctx, "admin")
	if err != nil {
		return demoPerson{}, nil, fmt.Errorf("demo admin: %w", err)
	}
	if w1, err := a.Accounts.PrincipalByUsername(ctx, "worker1"); err == nil {
		worker1.id = w1.WorkerID
	}
	all, _, err := a.Workers.List(ctx, &admin, workers.Filter{})
	if err != nil {
		return demoPerson{}, nil, fmt.Errorf("demo workers: %w", err)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	for _, w := range all {
		if w.Banned || w.ID != worker1.id && len(pool) == n {
			continue
		}
		number, err := a.Cipher.Decrypt(w.IDNumberEnc)
		if err != nil {
			return demoPerson{}, nil, fmt.Errorf("demo worker %d: %w", w.ID, err)
		}
		if w.ID == worker1.id {
			worker1.idNumber = number
			continue
		}
		pool = append(pool, demoPerson{id: w.ID, idNumber: number})
	}
	return worker1, pool, nil
}

func (a training) seedDemoClass(ctx context.Context, p *accounts.Principal, city, region, place string, dc demoClass, ws []demoPerson, today time.Time) error {
	day := func(n int) time.Time { return today.AddDate(0, 0, n).Add(2 * time.Hour) }
	// Built as it would have happened: created and opened a month before
	// the start, enrolled, started on the first day, finished on the last.
	early := day(min(dc.start-30, -1))
	c, err := a.Classes.At(early).Create(ctx, p, classes.Input{PlanCode: dc.plan, Name: fmt.Sprintf(dc.name, city),
		StartsOn: day(dc.start).Format(time.DateOnly), EndsOn: day(dc.end).Format(time.DateOnly),
		Capacity: dc.capacity, Region: region, Place: place})
	if err != nil || dc.state == classes.StateDraft {
		return err
	}
	enr := a.Enrolment.At(early)
	if c, err = enr.Open(ctx, p, c.ID); err != nil {
		return err
	}
	for _, w := range ws {
		if _, err := enr.EnrolByIDNumber(ctx, p, c.ID, w.idNumber); err != nil && !apperr.Is(err, "class_overlap") {
			return err
		}
	}
	switch dc.state {
	case classes.StateCancelled:
		_, err = enr.Cancel(ctx, p, c.ID, "报名人数不足，合并至下期开班")
		return err
	case classes.StateOpen:
		return nil
	}
	if _, err := a.Enrolment.At(day(dc.start)).Start(ctx, p, c.ID); err != nil {
		return err
	}
	if dc.hours {
		recorder := a.Attendance // hours of a finished class were complete on its last day
		if dc.state == classes.StateCompleted {
			recorder = a.Attendance.At(day(dc.end))
		}
		// The last two enrolled fall ill in a finished class; worker1, first,
		// always completes.
		ill := map[int64]bool{}
		if len(ws) > 3 {
			for _, w := range ws[len(ws)-2:] {
				ill[w.id] = true
			}
		}
		if err := seedDemoHours(ctx, recorder, p, c, dc.state == classes.StateCompleted, ill); err != nil {
			return err
		}
	}
	if dc.state == classes.StateCompleted {
		_, err = a.Classes.At(day(dc.end)).Finish(ctx, p, c.ID)
	}
	return err
}

// seedDemoHours records lessons day by day from the class's first day, at
// most 8 hours a day: in a finished class every course in full, and the ill
// miss the last lesson of the first course; in a running class half of
// each required course so far.
func seedDemoHours(ctx context.Context, svc *attendance.Service, p *accounts.Principal, c classes.Class, finished bool, ill map[int64]bool) error {
	_, roster, err := svc.Roster(ctx, p, c.ID)
	if err != nil {
		return err
	}
	var everyone, healthy []int64
	var courses []attendance.CourseProgress
	for _, v := range roster {
		if v.Status != enrolment.StatusEnrolled {
			continue
		}
		if courses == nil {
			courses = v.Progress.Courses
		}
		everyone = append(everyone, v.ID)
		if !ill[v.WorkerID] {
			healthy = append(healthy, v.ID)
		}
	}
	day, left := c.StartsOn, catalog.H(8)
	for i, cp := range courses {
		want := cp.Max
		if !finished {
			want = cp.Required / 2
		}
		want -= want % 5 // lessons come in half hours
		for want > 0 {
			if left == 0 {
				day, left = day.AddDate(0, 0, 1), catalog.H(8)
			}
			h := min(want, left)
			want, left = want-h, left-h
			present := everyone
			if finished && i == 0 && want == 0 {
				present = healthy // fell ill: one lesson short
			}
			if len(present) == 0 {
				continue
			}
			_, err := svc.RecordLesson(ctx, p, c.ID, attendance.LessonInput{Date: day.Format(time.DateOnly),
				CourseCode: cp.Code, Hours: h, Present: present}, attendance.SourceForm)
			if err != nil {
				return fmt.Errorf("demo lesson %s %s: %w", day.Format(time.DateOnly), cp.Code, err)
			}
		}
	}
	return nil
}
