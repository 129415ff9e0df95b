package seed

import (
	"context"
	"fmt"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/assessments"
	"tuoyu/modules/classes"
)

// The assessments of the demo world (DESIGN §5.5), in 武汉: a class of
// provider1 that ended yesterday with completed enrolments and no sitting,
// so assessments.schedule has work on a fresh demo; and a class that ended
// a month ago with sittings in every state (closed, scheduled, cancelled),
// passed and failed results. worker1 is in both and passes the second.

const (
	assessPlace    = "武汉市武昌区中北路托育实训基地"
	assessedName   = "%s 保育师四级培训（考核中）"
	yesterdayName  = "%s 保育师五级培训（昨日结业）"
	assessFreeNeed = 18
)

// Assessments adds the two ended classes and the sittings of the second. It
// does nothing when the assessed class exists already, or when there are
// not enough demo workers in no class (not the demo world).
func Assessments(ctx context.Context, s Services) error {
	a := training{s}
	p1, err := s.principal(ctx, "provider1")
	if err != nil {
		return err
	}
	done, err := a.hasClass(ctx, p1, "BYS-4", fmt.Sprintf(assessedName, "武汉"))
	if err != nil || done {
		return err
	}
	worker1, free, err := a.freePeople(ctx, assessFreeNeed)
	if err != nil || len(free) < assessFreeNeed {
		return err
	}
	with1 := func(ws []demoPerson) []demoPerson {
		if worker1.id == 0 {
			return ws
		}
		return append([]demoPerson{worker1}, ws...)
	}
	today := a.Classes.Today()
	ended := demoClass{plan: "BYS-5", name: yesterdayName, start: -21, end: -1, capacity: 30, state: classes.StateCompleted, hours: true}
	if err := a.seedDemoClass(ctx, p1, "武汉", "420106", assessPlace, ended, with1(free[:8]), today); err != nil {
		return fmt.Errorf("class ended yesterday: %w", err)
	}
	assessed := demoClass{plan: "BYS-4", name: assessedName, start: -45, end: -30, capacity: 30, state: classes.StateCompleted, hours: true}
	if err := a.seedDemoClass(ctx, p1, "武汉", "420106", assessPlace, assessed, with1(free[8:]), today); err != nil {
		return fmt.Errorf("assessed class: %w", err)
	}
	c, err := a.classNamed(ctx, p1, "BYS-4", fmt.Sprintf(assessedName, "武汉"))
	if err != nil {
		return err
	}
	return seedDemoSittings(ctx, s, p1, c.ID, today)
}

// seedDemoSittings schedules, scores and closes the sittings of class
// classID: theory and practical a month ago (closed), a theory re-sit in
// five days, and a practical re-sit that was cancelled.
func seedDemoSittings(ctx context.Context, s Services, p1 *accounts.Principal, classID int64, today time.Time) error {
	loc := s.Location
	at := func(days, hour int) string {
		d := today.AddDate(0, 0, days)
		return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, loc).Format(time.RFC3339)
	}
	schedule := func(kind assessments.Kind, days, hours int) (assessments.SittingView, error) {
		return s.Assessments.Schedule(ctx, p1, classID, assessments.SittingInput{Kind: kind, StartsAt: at(days, 9), EndsAt: at(days, 9+hours),
			Place: assessPlace + " 三楼考场", ConfirmNonWorkingDay: true})
	}
	panel := []assessments.ExaminerInput{{Name: "周丽萍", Role: assessments.RoleExaminer}, {Name: "吴海燕", Role: assessments.RoleExaminer},
		{Name: "郑晓梅", Role: assessments.RoleExaminer}, {Name: "冯建华", Role: assessments.RoleProctor}}
	theory, err := schedule(assessments.KindTheory, -25, 2)
	if err != nil {
		return fmt.Errorf("theory sitting: %w", err)
	}
	practical, err := schedule(assessments.KindPractical, -24, 3)
	if err != nil {
		return fmt.Errorf("practical sitting: %w", err)
	}
	// Theory: the last candidate fails, the one before is absent.
	// Practical: all but the last pass.
	if err := seedDemoResults(ctx, s, p1, theory.ID, panel, []float64{92, 86.5, 78, 71, 66, 63, -1, 45}); err != nil {
		return err
	}
	if err := seedDemoResults(ctx, s, p1, practical.ID, panel, []float64{88, 90, 75, 80, 69, 72, 61, 52}); err != nil {
		return err
	}
	if _, err := s.Assessments.CloseDue(ctx); err != nil {
		return err
	}
	resit, err := schedule(assessments.KindTheory, 5, 2)
	if err != nil {
		return fmt.Errorf("theory re-sit: %w", err)
	}
	if _, err := s.Assessments.SetExaminers(ctx, p1, resit.ID, panel[:2]); err != nil {
		return err
	}
	cancelled, err := schedule(assessments.KindPractical, 6, 3)
	if err != nil {
		return fmt.Errorf("practical re-sit: %w", err)
	}
	return s.Assessments.Cancel(ctx, p1, cancelled.ID, "考场设备检修，改期另行通知")
}

// seedDemoResults sets the panel of a sitting and records scores in
// candidate order (a negative score is an absence).
func seedDemoResults(ctx context.Context, s Services, p *accounts.Principal, sittingID int64, panel []assessments.ExaminerInput, scores []float64) error {
	if _, err := s.Assessments.SetExaminers(ctx, p, sittingID, panel); err != nil {
		return err
	}
	_, cands, err := s.Assessments.Candidates(ctx, p, sittingID)
	if err != nil {
		return err
	}
	var rows []assessments.ResultInput
	for i, c := range cands {
		score := scores[i%len(scores)]
		if score < 0 {
			rows = append(rows, assessments.ResultInput{EnrolmentID: c.EnrolmentID, Absent: true})
			continue
		}
		rows = append(rows, assessments.ResultInput{EnrolmentID: c.EnrolmentID, Score: &score})
	}
	_, err = s.Assessments.RecordResults(ctx, p, sittingID, rows)
	return err
}

// classNamed returns p's class of plan named name. Errors: NotFound
// (class_not_found) when there is none.
func (a training) classNamed(ctx context.Context, p *accounts.Principal, plan, name string) (classes.Class, error) {
	cs, _, err := a.Classes.Classes(ctx, p, classes.Filter{PlanCode: plan, Limit: 10000})
	if err != nil {
		return classes.Class{}, err
	}
	for _, c := range cs {
		if c.Name == name {
			return c, nil
		}
	}
	return classes.Class{}, classes.ErrNotFound()
}

func (a training) hasClass(ctx context.Context, p *accounts.Principal, plan, name string) (bool, error) {
	_, err := a.classNamed(ctx, p, plan, name)
	if apperr.Is(err, "class_not_found") {
		return false, nil
	}
	return err == nil, err
}

// freePeople returns worker1 and up to n demo workers who hold no place in
// any class yet, newest first, so the ended classes can take them whatever
// their dates.
func (a training) freePeople(ctx context.Context, n int) (worker1 demoPerson, free []demoPerson, err error) {
	worker1, pool, err := a.demoPeople(ctx, DemoWorkers*10)
	if err != nil {
		return demoPerson{}, nil, err
	}
	for i := len(pool) - 1; i >= 0 && len(free) < n; i-- {
		mine, err := a.Enrolment.Mine(ctx, &accounts.Principal{Role: accounts.RoleWorker, WorkerID: pool[i].id})
		if err != nil {
			return demoPerson{}, nil, err
		}
		if len(mine) == 0 {
			free = append(free, pool[i])
		}
	}
	return worker1, free, nil
}
