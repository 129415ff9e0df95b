package enrolment_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/attendance"
	"tuoyu/modules/attendance/attendancetest"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
)

func TestFiftyConcurrentEnrolmentsForTenPlaces(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "BYS-GQ", "420106", "2027-01-10", 20, 10)
	ws := make([]attendancetest.Worker, 50)
	for i := range ws {
		ws[i] = w.RegisteredBy(w.ProviderA, w.Worker())
	}
	results := make([]enrolment.Enrolment, len(ws))
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Half enrol themselves, half are enrolled by the provider.
			if i%2 == 0 {
				results[i], errs[i] = w.Svc.Enrol(ctx, ws[i].P, c.ID, 0)
			} else {
				results[i], errs[i] = w.Svc.Enrol(ctx, w.ProviderA, c.ID, ws[i].ID)
			}
		}()
	}
	close(start)
	wg.Wait()
	enrolled, waitlisted := 0, 0
	var positions []int
	for i, err := range errs {
		if err != nil {
			t.Fatalf("enrolment %d failed: %v", i, err)
		}
		switch results[i].Status {
		case enrolment.StatusEnrolled:
			enrolled++
		case enrolment.StatusWaitlisted:
			waitlisted++
			positions = append(positions, *results[i].Position)
		}
	}
	if enrolled != 10 || waitlisted != 40 {
		t.Errorf("enrolled %d, waitlisted %d; want 10 and 40", enrolled, waitlisted)
	}
	sort.Ints(positions)
	for i, p := range positions {
		if p != i+1 {
			t.Fatalf("waiting positions %v, want 1..40", positions)
		}
	}
	got, err := w.Svc.Class(ctx, w.ProviderA, c.ID)
	w.Must(err)
	if got.EnrolledCount != 10 || got.WaitlistedCount != 40 || got.Remaining() != 0 {
		t.Errorf("class counts %d enrolled, %d waitlisted", got.EnrolledCount, got.WaitlistedCount)
	}
	// The database refuses an overfull class even if the application
	// tried: the CHECK on the counts holds.
	_, err = w.DB.NewRaw("UPDATE enrolments SET status = 'enrolled', position = NULL WHERE class_id = ? AND status = 'waitlisted'", c.ID).Exec(ctx)
	if err == nil {
		t.Fatal("promoting the whole waiting list past capacity succeeded")
	}
}

// TestOneWorkerInTwoOverlappingClassesAtOnce: a worker enrolled into two
// classes with overlapping dates at the same moment gets one place and one
// class_overlap, every time. The load test saw the database abort one of
// the two as a deadlock (each insert waited for the other in the exclusion
// constraint), which answered 500.
func TestOneWorkerInTwoOverlappingClassesAtOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.Class(w.ProviderA, "BYS-GQ", "420106", "2027-02-01", 20, 10)
	b := w.Class(w.ProviderA, "FZR-GW", "420106", "2027-02-08", 20, 10) // another plan: no shared row serialises the two
	for round := 0; round < 10; round++ {
		x := w.RegisteredBy(w.ProviderA, w.Worker())
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, class := range []int64{a.ID, b.ID} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = w.Svc.Enrol(ctx, w.ProviderA, class, x.ID)
			}()
		}
		close(start)
		wg.Wait()
		ok, overlap := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case apperr.Is(err, "class_overlap"):
				overlap++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 || overlap != 1 {
			t.Fatalf("round %d: %d enrolled, %d refused for the overlap; want one each (%v)", round, ok, overlap, errs)
		}
	}
}

func TestEnrolRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "BYS-GQ", "420106", "2027-02-01", 10, 5)
	a := w.Worker()
	_, err := w.Svc.Enrol(ctx, a.P, c.ID, 0)
	w.Must(err)

	expect := func(name string, err error, code string, kind apperr.Kind) {
		t.Helper()
		e, ok := apperr.As(err)
		if !ok || e.Code != code || e.Kind != kind {
			t.Errorf("%s: error %v, want %s (kind %d)", name, err, code, kind)
		}
	}
	_, err = w.Svc.Enrol(ctx, a.P, c.ID, 0)
	expect("twice", err, "already_enrolled", apperr.KindConflict)
	_, err = w.Svc.Enrol(ctx, w.ProviderA, c.ID, a.ID)
	expect("twice by the provider", err, "already_enrolled", apperr.KindConflict)

	overlapping := w.Class(w.ProviderB, "BYS-GQ", "420502", "2027-02-05", 3, 5)
	_, err = w.Svc.Enrol(ctx, a.P, overlapping.ID, 0)
	expect("overlapping class", err, "class_overlap", apperr.KindConflict)

	banned := w.RegisteredBy(w.ProviderA, w.Worker())
	w.ban(banned.ID)
	_, err = w.Svc.Enrol(ctx, banned.P, c.ID, 0)
	expect("banned self", err, "banned", apperr.KindForbidden)
	_, err = w.Svc.Enrol(ctx, w.ProviderA, c.ID, banned.ID)
	expect("banned by provider", err, "not_registrable", apperr.KindInvalid)

	_, err = w.Svc.Enrol(ctx, w.ProviderA, c.ID, 987654321)
	expect("unknown worker", err, "worker_not_found", apperr.KindNotFound)

	draft := w.Draft(w.ProviderA, "BYS-GQ", "420106", "2027-03-01", 5, 5)
	b := w.RegisteredBy(w.ProviderA, w.Worker())
	_, err = w.Svc.Enrol(ctx, b.P, draft.ID, 0)
	expect("draft class (invisible to workers)", err, "class_not_found", apperr.KindNotFound)
	_, err = w.Svc.Enrol(ctx, w.ProviderA, draft.ID, b.ID)
	expect("draft class by its provider", err, "class_not_open", apperr.KindConflict)

	cancelled := w.Class(w.ProviderA, "BYS-GQ", "420106", "2027-04-01", 5, 5)
	_, err = w.Svc.Cancel(ctx, w.ProviderA, cancelled.ID, "报名人数不足")
	w.Must(err)
	_, err = w.Svc.Enrol(ctx, b.P, cancelled.ID, 0)
	expect("cancelled class", err, "class_not_open", apperr.KindConflict)

	// Enrolment closes on the first day: a worker trying later is refused.
	late := w.At("2027-02-02")
	_, err = late.Enrol(ctx, b.P, c.ID, 0)
	expect("after the start", err, "class_not_open", apperr.KindConflict)

	_, err = w.Svc.Enrol(ctx, w.Admin, c.ID, b.ID)
	expect("admin", err, "forbidden", apperr.KindForbidden)

	// None of the refusals changed the class.
	got, err := w.Svc.Class(ctx, w.ProviderA, c.ID)
	w.Must(err)
	if got.EnrolledCount != 1 || got.WaitlistedCount != 0 {
		t.Errorf("class counts after refusals: %d enrolled, %d waitlisted; want 1 and 0", got.EnrolledCount, got.WaitlistedCount)
	}
}

func TestWithdrawalPromotesTheWaitingListInOrder(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "BYS-ZG", "420102", "2027-01-20", 5, 2)
	ws := []attendancetest.Worker{w.Worker(), w.Worker(), w.Worker(), w.Worker(), w.Worker()}
	es := make([]enrolment.Enrolment, len(ws))
	for i, x := range ws {
		var err error
		es[i], err = w.Svc.Enrol(ctx, x.P, c.ID, 0)
		w.Must(err)
	}
	if es[2].Status != enrolment.StatusWaitlisted || *es[2].Position != 1 || *es[4].Position != 3 {
		t.Fatalf("third and fifth: %+v %+v", es[2], es[4])
	}
	// The first waiting worker is banned meanwhile: skipped, not promoted.
	w.ban(ws[2].ID)
	_, err := w.Svc.Withdraw(ctx, ws[0].P, es[0].ID)
	w.Must(err)
	_, roster, err := w.Svc.ClassRoster(ctx, w.ProviderA, c.ID)
	w.Must(err)
	status := map[int64]enrolment.Status{}
	for _, v := range roster {
		status[v.WorkerID] = v.Status
	}
	if status[ws[3].ID] != enrolment.StatusEnrolled || status[ws[2].ID] != enrolment.StatusWaitlisted ||
		status[ws[0].ID] != enrolment.StatusWithdrawn {
		t.Errorf("after withdrawal: %v", status)
	}
	// A waitlisted worker leaving promotes nobody.
	_, err = w.Svc.Withdraw(ctx, w.ProviderA, es[4].ID)
	w.Must(err)
	got, _ := w.Svc.Class(ctx, w.ProviderA, c.ID)
	if got.EnrolledCount != 2 || got.WaitlistedCount != 1 {
		t.Errorf("counts %d/%d, want 2 enrolled, 1 waiting", got.EnrolledCount, got.WaitlistedCount)
	}
	// Someone else cannot withdraw another worker (404, not 403).
	if _, err := w.Svc.Withdraw(ctx, ws[0].P, es[1].ID); !apperr.Is(err, "enrolment_not_found") {
		t.Errorf("other worker's withdrawal: %v", err)
	}
	// Nor after the class started.
	if _, err := w.At("2027-01-20").Withdraw(ctx, ws[1].P, es[1].ID); !apperr.Is(err, "class_started") {
		t.Errorf("withdrawal on the first day: %v", err)
	}
	// A worker who withdrew may enrol again, at the end of the line.
	again, err := w.Svc.Enrol(ctx, ws[0].P, c.ID, 0)
	w.Must(err)
	if again.ID != es[0].ID || again.Status != enrolment.StatusWaitlisted {
		t.Errorf("re-enrolment %+v", again)
	}
}

// Positions on a waiting list are 1, 2, 3 … after a promotion and after
// someone waiting leaves, not the numbers they were given (issue 9, item 3).
func TestWaitingListIsRenumbered(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "BYS-ZG", "420102", "2027-02-20", 5, 1)
	ws := []attendancetest.Worker{w.Worker(), w.Worker(), w.Worker(), w.Worker(), w.Worker()}
	es := make([]enrolment.Enrolment, len(ws))
	for i, x := range ws {
		var err error
		es[i], err = w.Svc.Enrol(ctx, x.P, c.ID, 0)
		w.Must(err)
	}
	positions := func() map[int64]int {
		_, roster, err := w.Svc.ClassRoster(ctx, w.ProviderA, c.ID)
		w.Must(err)
		out := map[int64]int{}
		for _, v := range roster {
			if v.Position != nil {
				out[v.ID] = *v.Position
			}
		}
		return out
	}
	// The place frees: es[1] (1st waiting) is promoted; es[2..4] move up.
	_, err := w.Svc.Withdraw(ctx, ws[0].P, es[0].ID)
	w.Must(err)
	got := positions()
	if len(got) != 3 || got[es[2].ID] != 1 || got[es[3].ID] != 2 || got[es[4].ID] != 3 {
		t.Errorf("after a promotion: %v, want %d→1, %d→2, %d→3", got, es[2].ID, es[3].ID, es[4].ID)
	}
	// Someone in the middle leaves the list.
	_, err = w.Svc.Withdraw(ctx, ws[3].P, es[3].ID)
	w.Must(err)
	got = positions()
	if len(got) != 2 || got[es[2].ID] != 1 || got[es[4].ID] != 2 {
		t.Errorf("after the second waiting left: %v, want %d→1, %d→2", got, es[2].ID, es[4].ID)
	}
	// A newcomer joins at the end.
	late, err := w.Svc.Enrol(ctx, w.Worker().P, c.ID, 0)
	w.Must(err)
	if late.Position == nil || *late.Position != 3 {
		t.Errorf("newcomer at %v, want 3", late.Position)
	}
}

func TestProviderScope(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "YYY-5", "420106", "2027-05-01", 5, 5)
	x := w.Worker()
	e, err := w.Svc.Enrol(ctx, x.P, c.ID, 0)
	w.Must(err)
	b := w.ProviderB
	checks := map[string]error{}
	_, checks["get"] = w.Svc.Class(ctx, b, c.ID)
	_, checks["start"] = w.Svc.Start(ctx, b, c.ID)
	_, checks["cancel"] = w.Svc.Cancel(ctx, b, c.ID, "测试")
	_, checks["enrol"] = w.Svc.Enrol(ctx, b, c.ID, w.Worker().ID)
	_, _, checks["roster"] = w.Svc.ClassRoster(ctx, b, c.ID)
	_, checks["lesson"] = w.Svc.RecordLesson(ctx, b, c.ID, attendance.LessonInput{Date: "2027-05-01", CourseCode: "LAW-01", Hours: 10, Present: []int64{e.ID}})
	_, checks["withdraw"] = w.Svc.Withdraw(ctx, b, e.ID)
	_, checks["progress"] = w.Svc.Progress(ctx, b, e.ID)
	for name, err := range checks {
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindNotFound {
			t.Errorf("provider B %s on A's class: %v, want not found", name, err)
		}
	}
	list, total, err := w.Svc.Classes(ctx, b, classes.Filter{})
	w.Must(err)
	for _, l := range list {
		if l.ID == c.ID {
			t.Errorf("provider B lists A's class (total %d)", total)
		}
	}
	// HR of 宜昌 does not see a 武汉 class; HR of 武汉 does.
	hrYichang := &accounts.Principal{UserID: 1, Role: accounts.RoleHRReviewer, Region: "420500"}
	if _, err := w.Svc.Class(ctx, hrYichang, c.ID); !apperr.Is(err, "class_not_found") {
		t.Errorf("宜昌 HR sees a 武汉 class: %v", err)
	}
	hrWuhan := &accounts.Principal{UserID: 1, Role: accounts.RoleHRReviewer, Region: "420100"}
	if _, err := w.Svc.Progress(ctx, hrWuhan, e.ID); err != nil {
		t.Errorf("武汉 HR cannot see progress in a 武汉 class: %v", err)
	}
	// Another worker cannot see this worker's progress.
	if _, err := w.Svc.Progress(ctx, w.Worker().P, e.ID); !apperr.Is(err, "enrolment_not_found") {
		t.Errorf("other worker sees progress: %v", err)
	}
}

func TestClassLifecycle(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "BYS-5", "420106", "2027-06-01", 3, 2)
	ws := []attendancetest.Worker{w.Worker(), w.Worker(), w.Worker()}
	for _, x := range ws {
		_, err := w.Svc.Enrol(ctx, x.P, c.ID, 0)
		w.Must(err)
	}
	if _, err := w.Svc.Open(ctx, w.ProviderA, c.ID); !apperr.Is(err, "class_state") {
		t.Errorf("opening twice: %v", err)
	}
	if _, err := w.Svc.Finish(ctx, w.ProviderA, c.ID); !apperr.Is(err, "class_state") {
		t.Errorf("finishing an open class: %v", err)
	}
	if _, err := w.At("2027-05-31").Start(ctx, w.ProviderA, c.ID); !apperr.Is(err, "class_not_started") {
		t.Errorf("starting the day before the first day: %v", err)
	}
	run, err := w.At("2027-06-01").Start(ctx, w.ProviderA, c.ID)
	w.Must(err)
	if run.State != classes.StateRunning || run.WaitlistedCount != 0 {
		t.Errorf("started class %+v: the waiting list should end", run)
	}
	if _, err := w.At("2027-06-02").Finish(ctx, w.ProviderA, c.ID); !apperr.Is(err, "class_not_ended") {
		t.Errorf("finishing before the end: %v", err)
	}
	done, err := w.At("2027-06-03").Finish(ctx, w.ProviderA, c.ID)
	w.Must(err)
	if done.State != classes.StateCompleted {
		t.Errorf("state %s", done.State)
	}
	if _, err := w.Svc.Cancel(ctx, w.ProviderA, c.ID, "晚了"); !apperr.Is(err, "class_state") {
		t.Errorf("cancelling a completed class: %v", err)
	}

	// Cancelling an open class ends every enrolment and names the workers.
	c2 := w.Class(w.ProviderA, "BYS-5", "420106", "2027-07-01", 3, 1)
	for _, x := range ws[:2] {
		_, err := w.Svc.Enrol(ctx, x.P, c2.ID, 0)
		w.Must(err)
	}
	if _, err := w.Svc.Cancel(ctx, w.ProviderA, c2.ID, " "); !apperr.Is(err, "reason_required") {
		t.Errorf("cancel without reason: %v", err)
	}
	res, err := w.Svc.Cancel(ctx, w.ProviderA, c2.ID, "场地不可用")
	w.Must(err)
	sort.Slice(res.Notified, func(i, j int) bool { return res.Notified[i] < res.Notified[j] })
	if len(res.Notified) != 2 || res.Notified[0] != ws[0].ID || res.Class.EnrolledCount != 0 || res.Class.State != classes.StateCancelled {
		t.Errorf("cancellation %+v", res)
	}
	// Each affected worker finds the notice in their inbox.
	for _, x := range ws[:2] {
		var body string
		if err := w.DB.NewRaw("SELECT body FROM notifications WHERE worker_id = ? AND kind = 'classes.cancelled'", x.ID).Scan(ctx, &body); err != nil {
			t.Errorf("worker %d got no cancellation notice: %v", x.ID, err)
		} else if !strings.Contains(body, "场地不可用") {
			t.Errorf("notice %q does not give the reason", body)
		}
	}
	// The worker is free for another class on those dates now.
	c3 := w.Class(w.ProviderB, "BYS-5", "420502", "2027-07-01", 3, 1)
	if _, err := w.Svc.Enrol(ctx, ws[0].P, c3.ID, 0); err != nil {
		t.Errorf("enrol after cancellation: %v", err)
	}
	// A class cannot be created to start in the past, nor opened once its
	// first day has passed (this one was created when it lay ahead).
	past := classes.Input{PlanCode: "BYS-5", Name: "往期班", StartsOn: "2026-11-01", EndsOn: "2026-11-03", Capacity: 1, Region: "420106"}
	_, err = w.Svc.CreateClass(ctx, w.ProviderA, past)
	if ae, ok := apperr.As(err); !ok || ae.Code != "invalid_class" || len(ae.Fields) != 1 || ae.Fields[0].Field != "starts_on" || ae.Fields[0].Code != "in_past" {
		t.Errorf("a class starting in the past: %v", err)
	}
	today := past
	today.StartsOn, today.EndsOn = "2026-12-01", "2026-12-03"
	if _, err := w.Svc.CreateClass(ctx, w.ProviderA, today); err != nil {
		t.Errorf("a class starting today: %v", err)
	}
	old, err := w.At("2026-10-01").CreateClass(ctx, w.ProviderA, past)
	w.Must(err)
	if _, err := w.Svc.Open(ctx, w.ProviderA, old.ID); !apperr.Is(err, "class_started") {
		t.Errorf("opening a past class: %v", err)
	}
}

func TestCreateClassRefusesBadInput(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	good := classes.Input{PlanCode: "BYS-GQ", Name: "岗前班", StartsOn: "2027-03-01", EndsOn: "2027-03-20", Capacity: 30, Region: "420106"}
	tests := []struct {
		name   string
		change func(*classes.Input)
		field  string
		code   string
	}{
		{"end before start", func(in *classes.Input) { in.EndsOn = "2027-02-28" }, "ends_on", "ends_before_start"},
		{"unknown plan", func(in *classes.Input) { in.PlanCode = "XXX-9" }, "plan_code", "unknown_plan"},
		{"no capacity", func(in *classes.Input) { in.Capacity = 0 }, "capacity", "invalid"},
		{"region outside Hubei", func(in *classes.Input) { in.Region = "110101" }, "region", "invalid_region"},
		{"unknown region", func(in *classes.Input) { in.Region = "429999" }, "region", "invalid_region"},
		{"bad date", func(in *classes.Input) { in.StartsOn = "2027/03/01" }, "starts_on", "invalid_date"},
		{"no name", func(in *classes.Input) { in.Name = "  " }, "name", "required"},
		{"window closes after end", func(in *classes.Input) { in.EnrolClosesOn = "2027-04-01" }, "enrol_closes_on", "closes_after_end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			tt.change(&in)
			_, err := w.Svc.CreateClass(ctx, w.ProviderA, in)
			e, ok := apperr.As(err)
			if !ok || e.Code != "invalid_class" {
				t.Fatalf("error %v, want invalid_class", err)
			}
			for _, f := range e.Fields {
				if f.Field == tt.field && f.Code == tt.code {
					return
				}
			}
			t.Errorf("fields %+v lack %s/%s", e.Fields, tt.field, tt.code)
		})
	}
	if _, err := w.Svc.CreateClass(ctx, w.Admin, good); !apperr.Is(err, "forbidden") {
		t.Errorf("admin creating a class: %v", err)
	}
	c, err := w.Svc.CreateClass(ctx, w.ProviderA, good)
	w.Must(err)
	if c.State != classes.StateDraft || c.PlanCode != "BYS-GQ" || c.ProviderOrgID != w.ProviderA.OrgID {
		t.Errorf("created %+v", c)
	}
}
