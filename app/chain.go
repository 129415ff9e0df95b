package app

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/assessments"
	"tuoyu/modules/attendance"
	"tuoyu/modules/catalog"
	"tuoyu/modules/certificates"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/workers"
)

// The training chain (DESIGN §7): lessons complete an enrolment,
// assessments pass it, certificates issue for it. No module calls one
// above it; the composition root hands each the next step as a func.

// wireChain connects attendance and assessments to certificates and the
// graduates' progress to assessment outcomes.
func (a *App) wireChain() {
	a.Assessments.OnPass = func(ctx context.Context, tx bun.IDB, p assessments.Pass) error {
		return a.issueIn(ctx, tx, certificates.IssueInput{WorkerID: p.WorkerID, EnrolmentID: p.EnrolmentID,
			ClassID: p.ClassID, ProviderOrgID: p.ProviderOrgID, PlanCode: p.PlanCode, PassedOn: p.PassedOn})
	}
	// A correction that takes a pass away revokes its certificate; one that
	// gives a pass issues through OnPass above.
	a.Assessments.OnPassChanged = func(ctx context.Context, tx bun.IDB, p assessments.Pass, passed bool) error {
		if passed {
			return nil
		}
		_, err := a.Certificates.RevokeForEnrolment(ctx, tx, p.EnrolmentID, certificates.ReasonIssuedInError,
			"考核成绩更正为不合格，证书系误发")
		return err
	}
	// Plans without assessment (BYS-ZG) end with completion.
	a.Attendance.SetOnComplete(func(ctx context.Context, tx bun.IDB, c attendance.Completion) error {
		plans, err := a.Catalog.PlansByID(ctx, tx, []int64{c.PlanID})
		if err != nil {
			return err
		}
		plan, ok := plans[c.PlanID]
		if !ok || plan.Assessment != catalog.AssessmentNone {
			return nil
		}
		return a.issueIn(ctx, tx, certificates.IssueInput{WorkerID: c.WorkerID, EnrolmentID: c.EnrolmentID,
			ClassID: c.ClassID, ProviderOrgID: c.ProviderOrgID, PlanCode: plan.Code, PassedOn: c.CompletedOn})
	})
	a.Attendance.SetOutcomes(func(ctx context.Context, idb bun.IDB, ids []int64) (map[int64]attendance.Outcome, error) {
		got, err := a.Assessments.Outcomes(ctx, idb, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[int64]attendance.Outcome, len(got))
		for id, o := range got {
			if o == assessments.OutcomeInTraining {
				continue // nothing to report before the hours are done
			}
			var passed *bool
			switch o {
			case assessments.OutcomePassed, assessments.OutcomeFailed:
				v := o == assessments.OutcomePassed
				passed = &v
			}
			out[id] = attendance.Outcome{Label: o.Label(), Passed: passed}
		}
		return out, nil
	})
}

// issueIn issues a certificate inside the caller's transaction. A banned
// person gets none, and a certificate refused for its data (a name the
// font cannot print) is held for the provider to see and the job to retry:
// neither must undo the results or lessons being recorded. Any other
// failure does.
func (a *App) issueIn(ctx context.Context, tx bun.IDB, in certificates.IssueInput) error {
	_, _, err := a.Certificates.IssueOrHold(ctx, tx, in)
	if apperr.Is(err, "worker_banned") {
		a.Logger.Info("no certificate for a banned person", "enrolment_id", in.EnrolmentID)
		return nil
	}
	return err
}

// catchUpBatch bounds one run of the certificates.issue job, passes and
// completions each; the next run takes the rest. Unbounded, a backlog at
// province size made one run render PDFs for five minutes and the
// instance's memory pass 500 MB (the load test).
const catchUpBatch = 500

// notToIssue selects the enrolments the catch-up leaves alone: those a
// certificate stands for, those of banned people (who get none; without
// this they would be picked up and refused again every run), and those
// held and tried within certificates.HoldRetry (so that refusals that
// stand never fill the job's batch and starve the rest).
func notToIssue(db bun.IDB) *bun.SelectQuery {
	return certificates.Certified(db).
		UnionAll(enrolment.OfWorkers(db, workers.Banned(db))).
		UnionAll(certificates.HeldRecently(db))
}

// issueMissing is the certificates.issue job: passes and completions of
// plans without assessment that hold no certificate, selected set-based
// (the owners' queries exclude notToIssue), then issued each in its own
// transaction by Certificates.CatchUp.
func (a *App) issueMissing(ctx context.Context, _ time.Time) error {
	passes, err := a.Assessments.PassesExcept(ctx, time.Time{}, notToIssue(a.DB), catchUpBatch)
	if err != nil {
		return err
	}
	comps, err := a.Enrolment.CompletionsWithout(ctx, notToIssue(a.DB), catchUpBatch)
	if err != nil {
		return err
	}
	ins := make([]certificates.IssueInput, 0, len(passes)+len(comps))
	for _, p := range passes {
		ins = append(ins, certificates.IssueInput{WorkerID: p.WorkerID, EnrolmentID: p.EnrolmentID, ClassID: p.ClassID,
			ProviderOrgID: p.ProviderOrgID, PlanCode: p.PlanCode, PassedOn: p.PassedOn})
	}
	ins = append(ins, completionInputs(comps)...)
	_, err = a.Certificates.CatchUp(ctx, ins)
	return err
}

func completionInputs(cs []enrolment.Completion) []certificates.IssueInput {
	out := make([]certificates.IssueInput, 0, len(cs))
	for _, c := range cs {
		out = append(out, certificates.IssueInput{WorkerID: c.WorkerID, EnrolmentID: c.EnrolmentID, ClassID: c.ClassID,
			ProviderOrgID: c.ProviderOrgID, PlanCode: c.PlanCode, PassedOn: c.CompletedOn})
	}
	return out
}
