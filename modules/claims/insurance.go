package claims

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/pii"
	"tuoyu/modules/tabular"
	"tuoyu/modules/workers"
)

// InsuranceImport is an upload of social-insurance months: a preview until
// committed.
type InsuranceImport struct {
	bun.BaseModel `bun:"table:insurance_imports,alias:ii"`

	ID          int64                   `bun:"id,pk,autoincrement" json:"id"`
	UploadedBy  int64                   `bun:"uploaded_by" json:"-"`
	FileName    string                  `bun:"file_name" json:"file_name"`
	Status      string                  `bun:"status" json:"status"`
	RowsTotal   int                     `bun:"rows_total" json:"rows_total"`
	RowsValid   int                     `bun:"rows_valid" json:"rows_valid"`
	RowsInvalid int                     `bun:"rows_invalid" json:"rows_invalid"`
	RowsUpdated int                     `bun:"rows_updated" json:"rows_updated"`
	ValidRows   []workers.InsuredMonths `bun:"valid_rows,type:jsonb" json:"-"`
	Errors      []apperr.FieldError     `bun:"errors,type:jsonb" json:"errors"`
	CreatedAt   time.Time               `bun:"created_at,nullzero,default:now()" json:"created_at"`
	CommittedAt *time.Time              `bun:"committed_at" json:"committed_at"`
}

// insuranceColumns are the columns of an insurance file and the header
// texts the social-insurance system uses for them.
var insuranceColumns = map[string][]string{
	"id_number": {"身份证号", "身份证号码", "公民身份号码", "证件号码"},
	"months":    {"累计缴费月数", "缴费月数", "累计月数"},
	"as_of":     {"截至日期", "截止日期", "统计截止日期"},
}

// ImportInsurance reads a CSV or XLSX of 身份证号, 累计缴费月数, 截至日期
// with the shared reader and stores a preview: every bad row is named
// with its row, field and reason; a person who is not a worker in p's
// scope is a bad row too (hr_reviewer). Nothing is written to workers
// until Commit. Errors: Forbidden forbidden_role; the reader's errors for
// an unreadable file (Invalid, TooLarge, Unsupported).
func (s *Service) ImportInsurance(ctx context.Context, p *accounts.Principal, name string, data []byte) (*InsuranceImport, error) {
	if !p.Is(accounts.RoleHRReviewer) {
		return nil, apperr.Forbidden("forbidden_role", "只有人社初审人员可以导入社保缴费记录")
	}
	t, err := tabular.Open(data, name, tabular.Options{Columns: insuranceColumns, Required: []string{"id_number", "months", "as_of"}, MaxRows: 100_000})
	if err != nil {
		return nil, err
	}
	defer t.Close()
	rows, err := t.ReadAll()
	if err != nil {
		return nil, err
	}
	today := s.today()
	imp := &InsuranceImport{UploadedBy: p.UserID, FileName: name, Status: "preview", RowsTotal: len(rows),
		ValidRows: []workers.InsuredMonths{}, Errors: []apperr.FieldError{}}
	good := s.parseInsuranceRows(rows, today, imp)
	bad := func(row int, field, code, msg string) {
		imp.Errors = append(imp.Errors, apperr.FieldError{Row: row, Field: field, Code: code, Message: msg})
	}
	idxs := make([][]byte, len(good))
	for i, g := range good {
		idxs[i] = g.idx
	}
	found, err := workers.LocateByIDNumberIdx(ctx, s.db, idxs)
	if err != nil {
		return nil, err
	}
	scope := p.Scope()
	for _, g := range good {
		w, ok := found[string(g.idx)]
		if !ok || !scope.CoversRegion(w.RegionCode) {
			// Outside scope reads like unknown, so ID numbers cannot be probed.
			bad(g.row, "身份证号", "worker_not_found", "本辖区没有此身份证号的从业人员")
			continue
		}
		imp.ValidRows = append(imp.ValidRows, workers.InsuredMonths{WorkerID: w.ID, Months: g.months, AsOf: g.asOf})
	}
	imp.RowsValid, imp.RowsInvalid = len(imp.ValidRows), len(imp.Errors)
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := NewStore(tx).InsertImport(ctx, imp); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "insurance.preview",
			TargetType: "insurance_import", TargetID: strconv.FormatInt(imp.ID, 10),
			Summary: map[string]any{"rows_total": imp.RowsTotal, "rows_valid": imp.RowsValid, "rows_invalid": imp.RowsInvalid}})
	})
	return imp, err
}

// insuranceRow is one import row that passed the checks of its own fields.
type insuranceRow struct {
	row    int
	idx    []byte
	months int
	asOf   time.Time
}

// parseInsuranceRows is the pure check of each row's fields, apart from
// the worker lookup: bad rows go to imp.Errors, the rest are returned.
func (s *Service) parseInsuranceRows(rows []tabular.Row, today time.Time, imp *InsuranceImport) []insuranceRow {
	var good []insuranceRow
	seen := map[string]int{}
	bad := func(row int, field, code, msg string) {
		imp.Errors = append(imp.Errors, apperr.FieldError{Row: row, Field: field, Code: code, Message: msg})
	}
	for _, r := range rows {
		ok := true
		id, err := workers.ValidateID(r.Get("id_number"), today)
		if err != nil {
			msg := "身份证号有误"
			if e, isApp := apperr.As(err); isApp {
				msg = e.Message
			}
			bad(r.Num, "身份证号", "invalid_id_number", msg)
			ok = false
		}
		months, err := strconv.Atoi(strings.TrimSpace(r.Get("months")))
		if err != nil || months < 0 || months > 720 {
			bad(r.Num, "累计缴费月数", "invalid_months", "累计缴费月数须为 0–720 的整数")
			ok = false
		}
		asOf, err := parseDay(r.Get("as_of"))
		switch {
		case err != nil:
			bad(r.Num, "截至日期", "invalid_date", "截至日期须写成 2026-11-30 这样的日期")
			ok = false
		case asOf.After(today):
			bad(r.Num, "截至日期", "future_date", "截至日期不能晚于今天")
			ok = false
		}
		if !ok {
			continue
		}
		idx := s.Cipher.Index(pii.KindIDNumber, id.Number)
		if first, dup := seen[string(idx)]; dup {
			bad(r.Num, "身份证号", "duplicate", fmt.Sprintf("与第 %d 行的身份证号重复，以第 %d 行为准", first, first))
			continue
		}
		seen[string(idx)] = r.Num
		good = append(good, insuranceRow{row: r.Num, idx: idx, months: months, asOf: asOf})
	}
	return good
}

// parseDay reads 2026-11-30, 2026/11/30 or 20261130.
func parseDay(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.DateOnly, "2006/1/2", "2006/01/02", "20060102", "2006.1.2"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", s)
}

// CommitInsurance writes an import's valid rows to the workers (marked as
// supplied by an HR import), once: repeating it changes nothing.
// Errors: NotFound insurance_import_not_found (also another user's);
// Forbidden forbidden_role.
func (s *Service) CommitInsurance(ctx context.Context, p *accounts.Principal, id int64) (*InsuranceImport, error) {
	if !p.Is(accounts.RoleHRReviewer) {
		return nil, apperr.Forbidden("forbidden_role", "只有人社初审人员可以导入社保缴费记录")
	}
	imp := new(InsuranceImport)
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := NewStore(tx).LockImport(ctx, imp, id, p.UserID); err != nil {
			return err
		}
		if imp.Status == "committed" {
			return nil
		}
		now := s.now()
		n, err := workers.SetInsuredMonths(ctx, tx, imp.ValidRows, "hr_import:"+p.Username, now)
		if err != nil {
			return err
		}
		imp.Status, imp.CommittedAt, imp.RowsUpdated = "committed", &now, n
		if err := NewStore(tx).MarkCommitted(ctx, imp); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "insurance.commit",
			TargetType: "insurance_import", TargetID: strconv.FormatInt(id, 10), Summary: map[string]any{"rows_updated": n}})
	})
	if err != nil {
		return nil, err
	}
	return imp, nil
}
