package rosters

import (
	"context"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/bans"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/workers"
)

// Commit writes the valid rows of import id to workers in one transaction
// and enrols the rows that name a plan. It runs once: the import row is
// locked first, so a second or concurrent commit finds it committed.
// Rows whose person was banned, or became another college's graduate,
// since validation are refused now (outcome invalid, code not_registrable
// or other_college). When that leaves no valid row the commit is refused with
// no_valid_rows, and the refused rows and counts are kept, so the page, the
// API and errors.csv say why. Errors: Forbidden forbidden_role; NotFound
// roster_not_found (also another college's import); Conflict
// already_committed, not_validated, import_failed; Invalid no_valid_rows.
func (s *Service) Commit(ctx context.Context, p *accounts.Principal, id int64) (*Import, error) {
	if !p.Is(accounts.RoleCollege) {
		return nil, apperr.Forbidden("forbidden_role", "只有院校可以提交花名册")
	}
	var im *Import
	refused := false // no valid row left: the re-check is kept, the commit refused
	err := s.inConnTx(ctx, func(ctx context.Context, conn bun.Conn, tx bun.Tx) error {
		st := NewStore(tx)
		var err error
		im, err = st.LockByID(ctx, p, id)
		if err != nil {
			return err
		}
		if err := committable(im); err != nil {
			return err
		}
		// Refuse rows banned or taken by another college since validation;
		// then copy the remaining rows into the bulk write inside the
		// database, where they already are.
		plans, err := s.recheckAll(ctx, tx, im)
		if err != nil {
			return err
		}
		bulk, err := workers.NewBulk(ctx, conn, tx)
		if err != nil {
			return err
		}
		kept, err := st.AddValidRowsTo(ctx, bulk, im)
		if err != nil {
			return err
		}
		if kept == 0 {
			// Commit the re-check (not the import): returning an error
			// here would roll back the rows just marked invalid.
			refused = true
			return st.Update(ctx, im, "rows_valid", "rows_invalid", "rows_new", "rows_changed", "rows_unchanged")
		}
		res, err := bulk.Write(ctx, im.Mode == ModeAddOnly)
		if err != nil {
			return err
		}
		if err := s.enrolRows(ctx, tx, p, im, plans); err != nil {
			return err
		}

		return s.markCommitted(ctx, tx, p, im, res)
	})
	if err != nil {
		return nil, err
	}
	if refused {
		return nil, apperr.Invalid("no_valid_rows", "花名册中没有可导入的有效行，请下载错误报告修正后重新上传")
	}
	return s.Get(ctx, p, id)
}

// committable refuses to commit an import that is not validated and
// uncommitted. Errors: Conflict already_committed, not_validated,
// import_failed.
func committable(im *Import) error {
	switch im.Status {
	case StatusCommitted:
		return apperr.Conflict("already_committed", "该花名册已提交，不能重复提交").With("import_id", im.ID)
	case StatusValidating:
		return apperr.Conflict("not_validated", "花名册仍在校验中，请稍后再提交")
	case StatusFailed:
		return apperr.Conflict("import_failed", "该花名册校验失败，不能提交，请修正后重新上传")
	}
	return nil
}

// recheckAll repeats, inside the commit, the checks that depend on others:
// a ban recorded since validation must still keep the person out (DESIGN
// §4.6), and a person another college has sent since must stay theirs.
// Each is one set-based statement over the import's rows (a 100 000-row
// import read out and looked up in batches spent seconds here); refused
// rows become invalid (code not_registrable or other_college) and leave the
// counts. It returns the rows still valid that ask for a plan.
func (s *Service) recheckAll(ctx context.Context, tx bun.Tx, im *Import) ([]planRequest, error) {
	st := NewStore(tx)
	banned, err := st.ValidRowsIn(ctx, im.ID, bans.ActiveIndexes(tx))
	if err != nil {
		return nil, err
	}
	for _, r := range banned {
		if err := auditNotRegistrable(ctx, tx, im, r.RowNum, r.IDMask); err != nil {
			return nil, err
		}
		e := RowError{Field: "id_number", Column: FieldLabel("id_number"), Code: CodeNotRegistrable, Message: msgNotRegistrable}
		if err := refuse(ctx, tx, im, r, e); err != nil {
			return nil, err
		}
	}
	others, err := st.ValidRowsOfOthers(ctx, im.ID, workers.Colleges(tx), im.CollegeOrgID)
	if err != nil {
		return nil, err
	}
	for _, r := range others {
		e := RowError{Field: "id_number", Column: FieldLabel("id_number"), Code: CodeOtherCollege, Message: msgOtherCollege}
		if err := refuse(ctx, tx, im, r, e); err != nil {
			return nil, err
		}
	}
	rows, err := st.ValidPlanRows(ctx, im.ID)
	if err != nil {
		return nil, err
	}
	plans := make([]planRequest, len(rows))
	for i, r := range rows {
		plans[i] = planRequest{row: r.RowNum, plan: r.PlanCode, idx: r.IDNumberIdx}
	}
	return plans, nil
}

// markCommitted stores im as committed by p with the bulk write's counts
// and records rosters.commit.
func (s *Service) markCommitted(ctx context.Context, tx bun.Tx, p *accounts.Principal, im *Import, res workers.BulkResult) error {
	now := s.now()
	im.Status, im.CommittedAt = StatusCommitted, &now
	im.CommittedByUserID, im.CommittedBy = p.UserID, uploaderLabel(p)
	im.RowsNew, im.RowsChanged, im.RowsUnchanged = res.Inserted, res.Updated, res.Unchanged
	if err := NewStore(tx).Update(ctx, im, "status", "committed_at", "committed_by_user_id", "committed_by_label",
		"rows_valid", "rows_invalid", "rows_new", "rows_changed", "rows_unchanged",
		"rows_enrolled", "rows_waitlisted"); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{
		ActorUserID: p.UserID, ActorOrgID: p.OrgID,
		Action: "rosters.commit", TargetType: "roster_import", TargetID: strconv.FormatInt(im.ID, 10),
		Summary: map[string]any{"mode": im.Mode, "rows_new": im.RowsNew, "rows_changed": im.RowsChanged,
			"rows_unchanged": im.RowsUnchanged, "rows_invalid": im.RowsInvalid,
			"rows_enrolled": im.RowsEnrolled, "rows_waitlisted": im.RowsWaitlisted},
	})
}

// refuse marks valid row r of im invalid with e and takes it out of the
// counts.
func refuse(ctx context.Context, tx bun.Tx, im *Import, r Row, e RowError) error {
	was := r.Outcome
	r.Errors = append(r.Errors, e)
	if err := NewStore(tx).RefuseRow(ctx, &r); err != nil {
		return err
	}
	im.RowsValid--
	im.RowsInvalid++
	switch was {
	case OutcomeNew:
		im.RowsNew--
	case OutcomeChanged:
		im.RowsChanged--
	case OutcomeUnchanged, OutcomeExists:
		im.RowsUnchanged--
	}
	return nil
}

// planRequest is a committed row that names a plan.
type planRequest struct {
	row  int
	plan string
	idx  []byte // the ID number's blind index, to find the worker
}

// enrolRows asks the enrolment module to place every committed row that
// names a plan. This is the one place rosters and enrolment meet.
func (s *Service) enrolRows(ctx context.Context, tx bun.Tx, p *accounts.Principal, im *Import, plans []planRequest) error {
	if s.enrol == nil || len(plans) == 0 {
		return nil
	}
	idxs := make([][]byte, len(plans))
	for i, r := range plans {
		idxs[i] = r.idx
	}
	stored, err := workers.LookupByIDNumberIdx(ctx, tx, idxs)
	if err != nil {
		return err
	}
	byStatus := map[string][]int{}
	for _, r := range plans {
		status, err := s.enrol.EnrolFromRoster(ctx, tx, enrolment.RosterRequest{
			WorkerID: stored[string(r.idx)].ID, PlanCode: r.plan, CollegeRegion: p.Region, RosterImportID: im.ID,
		})
		if err != nil {
			if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal {
				// Say which row, so the college can fix it.
				e.Message = fmt.Sprintf("第 %d 行：%s", r.row, e.Message)
			}
			return err
		}
		byStatus[status] = append(byStatus[status], r.row)
	}
	for status, nums := range byStatus {
		if err := NewStore(tx).SetEnrolmentStatus(ctx, im.ID, nums, status); err != nil {
			return err
		}
	}
	im.RowsEnrolled = len(byStatus[enrolment.RosterEnrolled])
	im.RowsWaitlisted = len(byStatus[enrolment.RosterWaitlisted])
	return nil
}
