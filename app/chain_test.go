package app

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/assessments"
	"tuoyu/modules/attendance"
	"tuoyu/modules/catalog"
	"tuoyu/modules/certificates"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers/workerstest"
)

var trainingNumber = regexp.MustCompile(`^HBTY\d{4}\d{8}$`)

// chainClass inserts a class of provider1 of plan from start to end (days
// from today) in state, with n new workers enrolled in status; it returns
// the class and the enrolment ids. The chain under test starts after it.
func chainClass(t *testing.T, plan, state, status string, start, end, n int) (int64, []int64) {
	t.Helper()
	a, ctx := testApp(t), context.Background()
	today := a.Classes.Today()
	from, to := today.AddDate(0, 0, start).Format(time.DateOnly), today.AddDate(0, 0, end).Format(time.DateOnly)
	var classID int64
	err := a.DB.NewRaw(`INSERT INTO classes (provider_org_id, plan_id, name, starts_on, ends_on, place, region_code, capacity, state)
		SELECT u.organisation_id, p.id, ?, ?, ?, '武汉市武昌区培训中心', '420106', 50, ? FROM plans p, users u
		WHERE p.code = ? AND u.username = 'provider1' RETURNING id`,
		fmt.Sprintf("链路测试 %s %d", plan, time.Now().UnixNano()), from, to, state, plan).Scan(ctx, &classID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := 0; i < n; i++ {
		id := workerstest.IDNumber("420106")
		enc, err := a.Cipher.Encrypt(id)
		if err != nil {
			t.Fatal(err)
		}
		var workerID, enID int64
		err = a.DB.NewRaw(`INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code)
			VALUES (?, ?, ?, ?, 'female', '1990-01-01', '420106') RETURNING id`,
			fmt.Sprintf("链路学员%d", i+1), enc, a.Cipher.Index(pii.KindIDNumber, id), pii.MaskID(id)).Scan(ctx, &workerID)
		if err != nil {
			t.Fatal(err)
		}
		var completed any
		if status == "completed" {
			completed = to
		}
		err = a.DB.NewRaw(`INSERT INTO enrolments (class_id, worker_id, plan_version_id, status, source, period, completed_on)
			SELECT ?, ?, current_version_id, ?, 'provider', daterange(?, ?, '[]'), ? FROM plans WHERE code = ? RETURNING id`,
			classID, workerID, status, from, to, completed, plan).Scan(ctx, &enID)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, enID)
	}
	return classID, ids
}

func certOf(t *testing.T, enrolmentID int64) *certificates.Certificate {
	t.Helper()
	c, err := certificates.NewStore(testApp(t).DB).ByEnrolment(context.Background(), enrolmentID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPassIssuesAndCorrectionRevokes: results with a pass issue the
// certificate in the results' transaction (OnPass); a correction to a
// fail revokes it as issued in error (OnPassChanged).
func TestPassIssuesAndCorrectionRevokes(t *testing.T) {
	p1 := login(t, "provider1")
	classID, ens := chainClass(t, "FZR-GW", "completed", "completed", -10, -1, 2)
	loc := testConfig().Location
	d := time.Now().In(loc)
	at := func(h int) string {
		return time.Date(d.Year(), d.Month(), d.Day(), h, 0, 0, 0, loc).Format(time.RFC3339)
	}
	res, body := p1.do("POST", fmt.Sprintf("/api/v1/classes/%d/assessments", classID), map[string]any{"kind": "theory",
		"starts_at": at(0), "ends_at": at(1), "place": "第三考场", "confirm_non_working_day": true})
	if res.StatusCode != 201 {
		t.Fatalf("schedule: %d %s", res.StatusCode, body)
	}
	sit := decode[sittingJSON](t, body)
	res, body = p1.do("PUT", fmt.Sprintf("/api/v1/assessments/%d/examiners", sit.ID),
		map[string]any{"examiners": []map[string]string{{"name": "王老师", "role": "proctor"}, {"name": "外聘 刘老师", "role": "proctor"}}})
	if res.StatusCode != 200 {
		t.Fatalf("examiners: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("POST", fmt.Sprintf("/api/v1/assessments/%d/results", sit.ID), map[string]any{"results": []map[string]any{
		{"enrolment_id": ens[0], "score": 82}, {"enrolment_id": ens[1], "score": 41}}})
	if res.StatusCode != 200 {
		t.Fatalf("results: %d %s", res.StatusCode, body)
	}
	c := certOf(t, ens[0])
	if c == nil || c.Kind != certificates.KindTraining || c.Status != certificates.StatusValid || !trainingNumber.MatchString(c.Number) {
		t.Fatalf("a pass of FZR-GW should hold a valid training certificate HBTY…, got %+v", c)
	}
	if certOf(t, ens[1]) != nil {
		t.Fatal("a fail got a certificate")
	}
	// The outcomes the graduates' progress shows, in one batch.
	outs, err := testApp(t).Assessments.Outcomes(context.Background(), testApp(t).DB, ens)
	if err != nil || outs[ens[0]] != assessments.OutcomePassed || outs[ens[1]] == assessments.OutcomePassed {
		t.Fatalf("outcomes %v %v", outs, err)
	}
	var resultID int64
	if err := testApp(t).DB.NewRaw("SELECT id FROM assessment_results WHERE sitting_id = ? AND enrolment_id = ?", sit.ID, ens[0]).
		Scan(context.Background(), &resultID); err != nil {
		t.Fatal(err)
	}
	res, body = p1.do("PATCH", fmt.Sprintf("/api/v1/assessment-results/%d", resultID), map[string]any{"score": 52, "reason": "复核减分"})
	if res.StatusCode != 200 {
		t.Fatalf("correction: %d %s", res.StatusCode, body)
	}
	first, err := certificates.NewStore(testApp(t).DB).ByID(context.Background(), c.ID)
	if err != nil || first.Status != certificates.StatusRevoked || first.RevokeReason != certificates.ReasonIssuedInError {
		t.Fatalf("a correction to fail should revoke the certificate as issued in error, got %+v %v", first, err)
	}
	if again := certOf(t, ens[0]); again != nil {
		t.Fatalf("no certificate should stand for a failed enrolment, got %+v", again)
	}
	// Corrected back to a pass: a new certificate with a new number; the
	// first keeps answering revoked at its code.
	res, body = p1.do("PATCH", fmt.Sprintf("/api/v1/assessment-results/%d", resultID), map[string]any{"score": 78, "reason": "复核更正"})
	if res.StatusCode != 200 {
		t.Fatalf("second correction: %d %s", res.StatusCode, body)
	}
	second := certOf(t, ens[0])
	if second == nil || second.Status != certificates.StatusValid || second.Number == first.Number || second.VerifyCode == first.VerifyCode {
		t.Fatalf("a correction back to pass should issue a new certificate, got %+v (first %s)", second, first.Number)
	}
	ans, err := testApp(t).Certificates.Verify(context.Background(), first.VerifyCode)
	if err != nil || ans.Status != string(certificates.StatusRevoked) {
		t.Fatalf("the first certificate should still verify as revoked: %+v %v", ans, err)
	}
	// The catch-up job leaves both alone.
	if err := testApp(t).issueMissing(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	n, err := testApp(t).DB.NewSelect().Table("certificates").Where("enrolment_id = ?", ens[0]).Count(context.Background())
	if err != nil || n != 2 || certOf(t, ens[0]).ID != second.ID {
		t.Fatalf("the enrolment should hold its revoked and its new certificate, no more: %d %v", n, err)
	}
}

// TestCompletionIssuesForPlansWithoutAssessment: the lesson that completes
// a BYS-ZG enrolment issues its training certificate, with an expiry.
func TestCompletionIssuesForPlansWithoutAssessment(t *testing.T) {
	a, ctx := testApp(t), context.Background()
	p, err := a.Accounts.PrincipalByUsername(ctx, "provider1")
	if err != nil {
		t.Fatal(err)
	}
	classID, ens := chainClass(t, "BYS-ZG", "running", "enrolled", -30, 0, 1)
	if err := fullLessons(ctx, a, &p, classID, a.Classes.Today().AddDate(0, 0, -30)); err != nil {
		t.Fatal(err)
	}
	c := certOf(t, ens[0])
	if c == nil || c.Kind != certificates.KindTraining || c.PlanCode != "BYS-ZG" || c.ExpiresOn == nil || !trainingNumber.MatchString(c.Number) {
		t.Fatalf("a BYS-ZG completion should hold an in-service training certificate, got %+v", c)
	}
}

// fullLessons records every course of class classID in full for everyone
// enrolled, at most 8 hours a day from day on.
func fullLessons(ctx context.Context, a *App, p *accounts.Principal, classID int64, day time.Time) error {
	_, roster, err := a.Attendance.Roster(ctx, p, classID)
	if err != nil {
		return err
	}
	var ids []int64
	for _, v := range roster {
		ids = append(ids, v.ID)
	}
	left := catalog.H(8)
	for _, cp := range roster[0].Progress.Courses {
		for want := cp.Max - cp.Max%5; want > 0; {
			if left == 0 {
				day, left = day.AddDate(0, 0, 1), catalog.H(8)
			}
			h := min(want, left)
			want, left = want-h, left-h
			if _, err := a.Attendance.RecordLesson(ctx, p, classID, attendance.LessonInput{Date: day.Format(time.DateOnly),
				CourseCode: cp.Code, Hours: h, Present: ids}, attendance.SourceForm); err != nil {
				return fmt.Errorf("lesson %s %s: %w", day.Format(time.DateOnly), cp.Code, err)
			}
		}
	}
	return nil
}

// TestIssueJobCatchesUpOnce: a BYS-ZG completion that got no certificate
// (written past the hook) is issued by certificates.issue, once.
func TestIssueJobCatchesUpOnce(t *testing.T) {
	a, ctx := testApp(t), context.Background()
	_, ens := chainClass(t, "BYS-ZG", "completed", "completed", -20, -2, 1)
	if certOf(t, ens[0]) != nil {
		t.Fatal("the fixture should start without a certificate")
	}
	missing, err := a.Enrolment.CompletionsWithout(ctx, certificates.Certified(a.DB), 10000)
	found := false
	for _, m := range missing {
		found = found || m.EnrolmentID == ens[0]
	}
	if err != nil || !found {
		t.Fatalf("the selection should find the missed completion: %+v %v", missing, err)
	}
	count := func() int {
		n, err := a.DB.NewSelect().Table("certificates").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	before := count()
	for i := 0; i < 2; i++ {
		if err := a.issueMissing(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if c := certOf(t, ens[0]); c == nil || c.Status != certificates.StatusValid {
		t.Fatalf("the job should issue the missed certificate, got %+v", c)
	}
	if after := count(); after != before+1 {
		t.Fatalf("two runs issued %d certificates, want 1", after-before)
	}
}

// TestIssueJobSkipsTheBanned: a banned person's completion is not selected
// by the catch-up at all (it would be refused again every run), and gets no
// certificate.
func TestIssueJobSkipsTheBanned(t *testing.T) {
	a, ctx := testApp(t), context.Background()
	_, ens := chainClass(t, "BYS-ZG", "completed", "completed", -20, -2, 1)
	if _, err := a.DB.NewRaw("UPDATE workers SET banned = true WHERE id = (SELECT worker_id FROM enrolments WHERE id = ?)", ens[0]).
		Exec(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := a.Enrolment.CompletionsWithout(ctx, certificates.Certified(a.DB), 100000)
	if err != nil || !hasEnrolment(all, ens[0]) {
		t.Fatalf("without the exclusion the completion is selected: %v", err)
	}
	missing, err := a.Enrolment.CompletionsWithout(ctx, notToIssue(a.DB), 100000)
	if err != nil || hasEnrolment(missing, ens[0]) {
		t.Fatalf("the catch-up should not select a banned person's completion: %v", err)
	}
	if err := a.issueMissing(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := certOf(t, ens[0]); c != nil {
		t.Fatalf("a banned person got a certificate: %+v", c)
	}
}

func hasEnrolment(cs []enrolment.Completion, id int64) bool {
	for _, c := range cs {
		if c.EnrolmentID == id {
			return true
		}
	}
	return false
}

// TestUnprintableNameHoldsOnlyItsCertificate: results of a sitting where
// one candidate's name has a character the certificate font lacks are
// recorded for everyone; the others get their certificates, that one a
// hold the provider sees with the character named. The job leaves a fresh
// hold alone, and once the name is corrected and the hold is due, issues
// the certificate and clears the hold.
func TestUnprintableNameHoldsOnlyItsCertificate(t *testing.T) {
	a, ctx := testApp(t), context.Background()
	p1 := login(t, "provider1")
	classID, ens := chainClass(t, "FZR-GW", "completed", "completed", -10, -1, 2)
	var workerID int64
	if err := a.DB.NewRaw("UPDATE workers SET name = ? WHERE id = (SELECT worker_id FROM enrolments WHERE id = ?) RETURNING id",
		"张\U000F0041", ens[1]).Scan(ctx, &workerID); err != nil {
		t.Fatal(err)
	}
	loc := testConfig().Location
	d := time.Now().In(loc)
	at := func(h int) string {
		return time.Date(d.Year(), d.Month(), d.Day(), h, 0, 0, 0, loc).Format(time.RFC3339)
	}
	res, body := p1.do("POST", fmt.Sprintf("/api/v1/classes/%d/assessments", classID), map[string]any{"kind": "theory",
		"starts_at": at(0), "ends_at": at(1), "place": "第三考场", "confirm_non_working_day": true})
	if res.StatusCode != 201 {
		t.Fatalf("schedule: %d %s", res.StatusCode, body)
	}
	sit := decode[sittingJSON](t, body)
	res, body = p1.do("PUT", fmt.Sprintf("/api/v1/assessments/%d/examiners", sit.ID),
		map[string]any{"examiners": []map[string]string{{"name": "王老师", "role": "proctor"}, {"name": "外聘 刘老师", "role": "proctor"}}})
	if res.StatusCode != 200 {
		t.Fatalf("examiners: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("POST", fmt.Sprintf("/api/v1/assessments/%d/results", sit.ID), map[string]any{"results": []map[string]any{
		{"enrolment_id": ens[0], "score": 82}, {"enrolment_id": ens[1], "score": 90}}})
	if res.StatusCode != 200 {
		t.Fatalf("one unprintable name must not refuse the sheet: %d %s", res.StatusCode, body)
	}
	if c := certOf(t, ens[0]); c == nil || c.Status != certificates.StatusValid {
		t.Fatalf("the printable pass should hold its certificate, got %+v", c)
	}
	if c := certOf(t, ens[1]); c != nil {
		t.Fatalf("the unprintable name got a certificate: %+v", c)
	}
	outs, err := a.Assessments.Outcomes(ctx, a.DB, ens[1:])
	if err != nil || outs[ens[1]] != assessments.OutcomePassed {
		t.Fatalf("the held candidate's pass should stand: %v %v", outs, err)
	}
	_, page := p1.do("GET", fmt.Sprintf("/classes/%d/certificates", classID), nil)
	if !regexp.MustCompile(`暂未出证（1 人）[\s\S]*U(\+|&#43;)F0041`).Match(page) {
		t.Fatalf("the provider's class certificates page should show the hold naming U+F0041:\n%s", page)
	}
	if _, page := login(t, "provider2").do("GET", fmt.Sprintf("/classes/%d/certificates", classID), nil); regexp.MustCompile(`暂未出证`).Match(page) {
		t.Fatal("another provider sees the hold")
	}

	// A fresh hold is not tried again by the job.
	if err := a.issueMissing(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	var tries int
	if err := a.DB.NewRaw("SELECT tries FROM certificate_holds WHERE enrolment_id = ?", ens[1]).Scan(ctx, &tries); err != nil || tries != 1 {
		t.Fatalf("a fresh hold should be left alone by the job: tries %d %v", tries, err)
	}
	// Due and still unprintable: tried, held again.
	due := func() {
		if _, err := a.DB.NewRaw("UPDATE certificate_holds SET held_at = held_at - interval '1 hour', tried_at = tried_at - interval '1 hour' WHERE enrolment_id = ?", ens[1]).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	due()
	if err := a.issueMissing(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.NewRaw("SELECT tries FROM certificate_holds WHERE enrolment_id = ?", ens[1]).Scan(ctx, &tries); err != nil || tries != 2 {
		t.Fatalf("a due hold should be tried again: tries %d %v", tries, err)
	}
	// Corrected and due: issued, hold gone.
	if _, err := a.DB.NewRaw("UPDATE workers SET name = '张三丰' WHERE id = ?", workerID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	due()
	if err := a.issueMissing(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := certOf(t, ens[1]); c == nil || c.Status != certificates.StatusValid || c.HolderName != "张三丰" {
		t.Fatalf("the corrected name should get its certificate, got %+v", c)
	}
	n, err := a.DB.NewSelect().Table("certificate_holds").Where("enrolment_id = ?", ens[1]).Count(ctx)
	if err != nil || n != 0 {
		t.Fatalf("issuing should clear the hold: %d %v", n, err)
	}
}
