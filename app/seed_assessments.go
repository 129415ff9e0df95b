package app

import (
	"context"
	"fmt"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/assessments"
)

// seedDemoAssessments adds the assessments of the demo (DESIGN §5.5): in 武汉
// a class of provider1 that ended yesterday with completed enrolments and
// no sitting, so assessments.schedule has work on a fresh demo; and a class
// that ended a month ago with sittings in every state (closed, scheduled,
// cancelled), passed and failed results. worker1 is in both and passes the
// second.
func (a *App) seedDemoAssessments(ctx context.Context) error {
	p1, err := a.Accounts.PrincipalByUsername(ctx, "provider1")
	if err != nil {
		return err
	}
	const place = "武汉市武昌区中北路托育实训基地"
	free, err := a.Enrolment.DemoFreeWorkers(ctx, 18)
	if err != nil {
		return err
	}
	if len(free) < 18 {
		return nil // not the demo world (or already used up): nothing to add
	}
	var worker1 []int64
	if w1, err := a.Accounts.PrincipalByUsername(ctx, "worker1"); err == nil {
		worker1 = []int64{w1.WorkerID}
	}
	if _, err := a.Enrolment.SeedDemoEndedClass(ctx, &p1, "BYS-5", "%s 保育师五级培训（昨日结业）", "武汉", "420106", place, -21, -1,
		append(append([]int64{}, worker1...), free[:8]...)); err != nil {
		return fmt.Errorf("class ended yesterday: %w", err)
	}
	ws := append(append([]int64{}, worker1...), free[8:]...)
	c, err := a.Enrolment.SeedDemoEndedClass(ctx, &p1, "BYS-4", "%s 保育师四级培训（考核中）", "武汉", "420106", place, -45, -30, ws)
	if err != nil {
		return fmt.Errorf("assessed class: %w", err)
	}
	if _, sits, err := a.Assessments.ClassSittings(ctx, &p1, c.ID); err != nil || len(sits) > 0 {
		return err
	}
	today := a.Now().In(a.Config.Location)
	at := func(days, hour int) string {
		d := today.AddDate(0, 0, days)
		return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, a.Config.Location).Format(time.RFC3339)
	}
	schedule := func(kind assessments.Kind, days, hours int) (assessments.SittingView, error) {
		return a.Assessments.Schedule(ctx, &p1, c.ID, assessments.SittingInput{Kind: kind, StartsAt: at(days, 9), EndsAt: at(days, 9+hours),
			Place: place + " 三楼考场", ConfirmNonWorkingDay: true})
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
	if err := a.seedDemoResults(ctx, &p1, theory.ID, panel, []float64{92, 86.5, 78, 71, 66, 63, -1, 45}); err != nil {
		return err
	}
	if err := a.seedDemoResults(ctx, &p1, practical.ID, panel, []float64{88, 90, 75, 80, 69, 72, 61, 52}); err != nil {
		return err
	}
	if _, err := a.Assessments.CloseDue(ctx); err != nil {
		return err
	}
	// The re-sit of theory is scheduled; that of practical was cancelled.
	resit, err := schedule(assessments.KindTheory, 5, 2)
	if err != nil {
		return fmt.Errorf("theory re-sit: %w", err)
	}
	if _, err := a.Assessments.SetExaminers(ctx, &p1, resit.ID, panel[:2]); err != nil {
		return err
	}
	cancelled, err := schedule(assessments.KindPractical, 6, 3)
	if err != nil {
		return fmt.Errorf("practical re-sit: %w", err)
	}
	return a.Assessments.Cancel(ctx, &p1, cancelled.ID, "考场设备检修，改期另行通知")
}

// seedDemoResults sets the panel of a sitting and records scores in
// candidate order (a negative score is an absence).
func (a *App) seedDemoResults(ctx context.Context, p *accounts.Principal, sittingID int64, panel []assessments.ExaminerInput, scores []float64) error {
	if _, err := a.Assessments.SetExaminers(ctx, p, sittingID, panel); err != nil {
		return err
	}
	_, cands, err := a.Assessments.Candidates(ctx, p, sittingID)
	if err != nil {
		return err
	}
	var rows []assessments.ResultInput
	for i, c := range cands {
		s := scores[i%len(scores)]
		if s < 0 {
			rows = append(rows, assessments.ResultInput{EnrolmentID: c.EnrolmentID, Absent: true})
			continue
		}
		rows = append(rows, assessments.ResultInput{EnrolmentID: c.EnrolmentID, Score: &s})
	}
	_, err = a.Assessments.RecordResults(ctx, p, sittingID, rows)
	return err
}
