package rosters

import (
	"context"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
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

// recheckAll runs recheck over the valid rows of im a batch at a time
// (reading only what the checks need) and returns the rows still valid that
// ask for a plan.
func (s *Service) recheckAll(ctx context.Context, tx bun.Tx, im *Import) ([]planRequest, error) {
	var plans []planRequest
	err := NewStore(tx).EachValidBatch(ctx, im.ID, commitBatch, func(rows []Row) error {
		rows, err := s.recheck(ctx, tx, im, rows)
		for _, r := range rows {
			if r.PlanCode != "" {
				plans = append(plans, planRequest{row: r.RowNum, plan: r.PlanCode, idx: r.IDNumberIdx})
			}
		}
		return err
	})
	return plans, err
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

// recheck repeats, inside the commit, the checks that depend on others: a
// ban recorded since validation must still keep the person out (DESIGN
// §4.6), and a person another college has sent since must stay theirs.
// Refused rows become invalid (code not_registrable or other_college) and leave the
// counts; the rest are returned.
func (s *Service) recheck(ctx context.Context, tx bun.Tx, im *Import, rows []Row) ([]Row, error) {
	kept := rows[:0:0]
	for start := 0; start < len(rows); start += 10_000 {
		chunk := rows[start:min(start+10_000, len(rows))]
		idxs := make([][]byte, len(chunk))
		for i, r := range chunk {
			idxs[i] = r.IDNumberIdx
		}
		banned, err := s.bans.BannedAmong(ctx, tx, idxs)
		if err != nil {
			return nil, err
		}
		existing, err := workers.LookupByIDNumberIdx(ctx, tx, idxs)
		if err != nil {
			return nil, err
		}
		for _, r := range chunk {
			var e RowError
			switch ex, found := existing[string(r.IDNumberIdx)]; {
			case banned[string(r.IDNumberIdx)]:
				e = RowError{Field: "id_number", Column: FieldLabel("id_number"), Code: CodeNotRegistrable, Message: msgNotRegistrable}
				if err := auditNotRegistrable(ctx, tx, im, r.RowNum, r.IDMask); err != nil {
					return nil, err
				}
			case found && otherCollege(ex, im.CollegeOrgID):
				e = RowError{Field: "id_number", Column: FieldLabel("id_number"), Code: CodeOtherCollege, Message: msgOtherCollege}
			default:
				kept = append(kept, r)
				continue
			}
			was := r.Outcome
			r.Errors = append(r.Errors, e)
			if err := NewStore(tx).RefuseRow(ctx, &r); err != nil {
				return nil, err
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
		}
	}
	return kept, nil
}

// commitBatch is how many rows a commit reads and copies at a time.
const commitBatch = 10_000

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
