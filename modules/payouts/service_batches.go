package payouts

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/claims"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
)

// payers build, export and pay batches (DESIGN §2: hr_approver).
var payers = []accounts.Role{accounts.RoleHRApprover}

// readers may look at batches: the approvers who run them and admins, who
// read everything and decide nothing.
var readers = []accounts.Role{accounts.RoleHRApprover, accounts.RoleAdmin}

func forbidPayer() *apperr.Error {
	return apperr.Forbidden("forbidden_role", "只有人社审批员可以办理补贴拨付")
}

func errMoved(n int64, want int) error {
	return apperr.Conflict("claims_changed", fmt.Sprintf("有 %d 笔补贴申请的状态已被他人改变，请刷新后重试", want-int(n)))
}

// CreateBatch gathers every payable claim of region (and below) that is in
// no other batch into a new draft batch, in one transaction: the claims are
// locked, put in the batch and moved to batched. Returned claims whose
// worker has since fixed their bank account are made payable first, so they
// join. Errors: Forbidden forbidden_role; Invalid region_required; NotFound
// region_not_found; Conflict nothing_payable.
func (s *Service) CreateBatch(ctx context.Context, p *accounts.Principal, region string) (*Batch, error) {
	if !p.Is(payers...) {
		return nil, forbidPayer()
	}
	if strings.TrimSpace(region) == "" {
		return nil, apperr.Invalid("region_required", "请选择地区",
			apperr.FieldError{Field: "region", Code: "region_required", Message: "请选择要拨付的地区"})
	}
	var b *Batch
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		r, err := regionInScope(ctx, tx, p, region)
		if err != nil {
			return err
		}
		prefix := accounts.RegionPrefix(r.Code)
		if _, err := s.releaseFixed(ctx, tx, prefix); err != nil {
			return err
		}
		payable, err := claims.LockPayable(ctx, tx, prefix)
		if err != nil {
			return err
		}
		if len(payable) == 0 {
			return apperr.Conflict("nothing_payable", r.Name+"目前没有待拨付的补贴申请")
		}
		st := NewStore(tx)
		b = &Batch{RegionCode: r.Code, CreatedBy: p.UserID}
		if err := st.InsertBatch(ctx, b); err != nil {
			return err
		}
		items := make([]Item, len(payable))
		ids := make([]int64, len(payable))
		for i, c := range payable {
			items[i] = Item{BatchID: b.ID, ClaimID: c.ID, WorkerID: c.WorkerID, RegionCode: c.RegionCode,
				Subsidy: c.Subsidy, AmountYuan: c.AmountYuan}
			ids[i] = c.ID
		}
		if err := st.InsertItems(ctx, items); err != nil {
			return err
		}
		if n, err := claims.MoveForPayout(ctx, tx, ids, claims.PayoutPayable, claims.PayoutBatched); err != nil {
			return err
		} else if n != int64(len(ids)) {
			return errMoved(n, len(ids))
		}
		if b, err = st.BatchByID(ctx, p, b.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "payouts.batch_create", TargetType: "payout_batch",
			TargetID: strconv.FormatInt(b.ID, 10), Summary: map[string]any{"region": b.RegionCode, "claims": b.Claims, "total_yuan": b.TotalYuan}})
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Batch returns batch id if p may see it. Errors: Forbidden forbidden_role;
// NotFound batch_not_found.
func (s *Service) Batch(ctx context.Context, p *accounts.Principal, id int64) (*Batch, error) {
	if !p.Is(readers...) {
		return nil, apperr.Forbidden("forbidden_role", "您的角色无权查看拨付批次")
	}
	return NewStore(s.db).BatchByID(ctx, p, id)
}

// Batches returns a page of the batches p may see. Errors: Forbidden
// forbidden_role; Invalid invalid_status.
func (s *Service) Batches(ctx context.Context, p *accounts.Principal, status string, limit, offset int) ([]Batch, int, error) {
	if !p.Is(readers...) {
		return nil, 0, apperr.Forbidden("forbidden_role", "您的角色无权查看拨付批次")
	}
	switch Status(status) {
	case "", StatusDraft, StatusExported, StatusPaid:
	default:
		return nil, 0, apperr.Invalid("invalid_status", "批次状态只能是 draft、exported 或 paid",
			apperr.FieldError{Field: "status", Code: "invalid_status", Message: "批次状态只能是 draft、exported 或 paid"})
	}
	return NewStore(s.db).Batches(ctx, p, Status(status), limit, offset)
}

// ItemView is an item with what pages show of its worker: the name, the
// masked ID number and account, and whether a bank account is on file.
type ItemView struct {
	Item
	WorkerName  string
	IDMask      string
	AccountMask string
	BankName    string
	HasAccount  bool
}

// Blocking is the included claims of a batch whose worker has no bank
// account on file: the batch cannot be exported until they are fixed or
// removed.
func (s *Service) Blocking(ctx context.Context, b *Batch) ([]ItemView, error) {
	items, err := NewStore(s.db).BlockingItems(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	return s.withWorkers(ctx, s.db, items)
}

// Items returns a page of a batch's items with their workers. Errors as
// Batch.
func (s *Service) Items(ctx context.Context, p *accounts.Principal, batchID int64, limit, offset int) ([]ItemView, int, error) {
	if _, err := s.Batch(ctx, p, batchID); err != nil {
		return nil, 0, err
	}
	items, total, err := NewStore(s.db).Items(ctx, batchID, ItemFilter{Limit: limit, Offset: offset})
	if err != nil {
		return nil, 0, err
	}
	views, err := s.withWorkers(ctx, s.db, items)
	return views, total, err
}

func (s *Service) withWorkers(ctx context.Context, idb bun.IDB, items []Item) ([]ItemView, error) {
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.WorkerID)
	}
	ws, err := workers.NewStore(idb).ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*workers.Worker, len(ws))
	for i := range ws {
		byID[ws[i].ID] = &ws[i]
	}
	out := make([]ItemView, len(items))
	for i, it := range items {
		out[i].Item = it
		if w := byID[it.WorkerID]; w != nil {
			out[i].WorkerName, out[i].IDMask, out[i].AccountMask, out[i].BankName = w.Name, w.IDMask, w.BankAccountMask, w.BankName
			out[i].HasAccount = len(w.BankAccountEnc) > 0
		}
	}
	return out, nil
}

// RemoveClaim takes claim claimID out of draft batch batchID with a reason;
// the claim is payable again. Errors: Forbidden forbidden_role; NotFound
// batch_not_found, claim_not_in_batch; Conflict batch_not_draft; Invalid
// reason_required.
func (s *Service) RemoveClaim(ctx context.Context, p *accounts.Principal, batchID, claimID int64, reason string) (*Batch, error) {
	if !p.Is(payers...) {
		return nil, forbidPayer()
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return nil, apperr.Invalid("reason_required", "请填写移出原因（不超过 200 字）",
			apperr.FieldError{Field: "reason", Code: "reason_required", Message: "请填写移出原因（不超过 200 字）"})
	}
	var b *Batch
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		locked, err := st.LockBatch(ctx, p, batchID)
		if err != nil {
			return err
		}
		if locked.Status != StatusDraft {
			return apperr.Conflict("batch_not_draft", "批次已导出，不能再移出申请")
		}
		it, err := st.IncludedItemByClaim(ctx, batchID, claimID)
		if err != nil {
			return err
		}
		if err := st.RemoveItem(ctx, it.ID, p.UserID, reason, s.now()); err != nil {
			return err
		}
		if n, err := claims.MoveForPayout(ctx, tx, []int64{claimID}, claims.PayoutBatched, claims.PayoutPayable); err != nil {
			return err
		} else if n != 1 {
			return errMoved(n, 1)
		}
		if b, err = st.BatchByID(ctx, p, batchID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "payouts.claim_remove", TargetType: "payout_batch",
			TargetID: strconv.FormatInt(batchID, 10), Summary: map[string]any{"claim_id": claimID, "reason": reason}})
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// exportChunk is how many items the bank file reads and decrypts at a time.
const exportChunk = 1000

// Export writes the bank file of batch id to out and returns the batch
// after it: one row per included claim with the worker's name, ID number,
// account and bank decrypted (only here), the amount, the subsidy and the
// batch number, then a totals row. The first export moves the batch from
// draft to exported; every download is audited with who and when. The file
// is built inside the transaction and handed out only after it commits.
// Errors: Forbidden forbidden_role; NotFound batch_not_found; Conflict
// batch_empty, already_paid, missing_bank_account (naming the workers).
func (s *Service) Export(ctx context.Context, p *accounts.Principal, id int64, out *bytes.Buffer) (*Batch, error) {
	if !p.Is(payers...) {
		return nil, forbidPayer()
	}
	var b *Batch
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		out.Reset()
		st := NewStore(tx)
		var err error
		if b, err = st.LockBatch(ctx, p, id); err != nil {
			return err
		}
		switch {
		case b.Status == StatusPaid:
			return apperr.Conflict("already_paid", "批次已拨付，不能再导出银行文件")
		case b.Claims == 0:
			return apperr.Conflict("batch_empty", "批次中没有补贴申请，不能导出")
		}
		blocking, err := st.BlockingItems(ctx, id)
		if err != nil {
			return err
		}
		if len(blocking) > 0 {
			views, err := s.withWorkers(ctx, tx, blocking)
			if err != nil {
				return err
			}
			return missingAccounts(views)
		}
		bf, err := NewBankFile()
		if err != nil {
			return err
		}
		defer bf.Close()
		acctIdx := map[int64][]byte{}
		var after int64
		for {
			items, _, err := st.Items(ctx, id, ItemFilter{Statuses: []ItemStatus{ItemIncluded}, AfterID: after, Limit: exportChunk})
			if err != nil {
				return err
			}
			if len(items) == 0 {
				break
			}
			if err := s.writeRows(ctx, tx, bf, b, items, acctIdx); err != nil {
				return err
			}
			after = items[len(items)-1].ID
		}
		n, total, err := bf.Finish(out)
		if err != nil {
			return err
		}
		if n != b.Claims || total != b.TotalYuan {
			// The trigger keeps the totals; a difference is a bug, never a file.
			return fmt.Errorf("bank file of batch %d totals %d claims / %d yuan, the batch %d / %d", id, n, total, b.Claims, b.TotalYuan)
		}
		if err := st.SetAccountIdx(ctx, acctIdx); err != nil {
			return err
		}
		if err := st.MarkExported(ctx, id, p.UserID, s.now()); err != nil {
			return err
		}
		if b, err = st.BatchByID(ctx, p, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "payouts.batch_export", TargetType: "payout_batch",
			TargetID: strconv.FormatInt(id, 10), Summary: map[string]any{"claims": n, "total_yuan": total, "export": b.Exports}})
	})
	if err != nil {
		out.Reset()
		return nil, err
	}
	return b, nil
}

// missingAccounts is the pure answer naming the workers whose missing
// bank accounts block an export.
func missingAccounts(views []ItemView) error {
	names := make([]string, 0, len(views))
	var list []map[string]any
	for _, v := range views {
		names = append(names, v.WorkerName)
		list = append(list, map[string]any{"claim_id": v.ClaimID, "worker_id": v.WorkerID, "name": v.WorkerName, "id_number_masked": v.IDMask})
	}
	return apperr.Conflict("missing_bank_account", fmt.Sprintf("以下 %d 人没有登记银行账户，请补登账户或将其移出批次后再导出：%s",
		len(names), strings.Join(names, "、"))).With("workers", list)
}

// writeRows adds one chunk of items to the bank file, decrypting their
// workers' details, and notes each item's account index.
func (s *Service) writeRows(ctx context.Context, idb bun.IDB, bf *BankFile, b *Batch, items []Item, idx map[int64][]byte) error {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.WorkerID
	}
	ws, err := workers.NewStore(idb).ByIDs(ctx, ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]*workers.Worker, len(ws))
	for i := range ws {
		byID[ws[i].ID] = &ws[i]
	}
	number := b.Number()
	for _, it := range items {
		w := byID[it.WorkerID]
		if w == nil {
			return fmt.Errorf("worker %d of batch item %d not found", it.WorkerID, it.ID)
		}
		idNumber, account, err := s.workers.RevealForBank(w)
		if err != nil {
			return err
		}
		if account == "" {
			return apperr.Conflict("missing_bank_account", w.Name+" 没有登记银行账户，请补登账户或将其移出批次后再导出")
		}
		if err := bf.Add(BankRow{Name: w.Name, IDNumber: idNumber, Account: account, BankName: w.BankName,
			AmountYuan: it.AmountYuan, Subsidy: SubsidyLabel(it.Subsidy), BatchNo: number}); err != nil {
			return err
		}
		idx[it.ID] = w.BankAccountIdx
	}
	return nil
}

// PaidInput is the bank's confirmation of a batch.
type PaidInput struct {
	PaidOn        string
	BankReference string
}

// MarkPaid records that the bank paid batch id: the batch and every claim
// in it become paid in one transaction, exactly once. The batch moves by a
// conditional update (exported → paid), so of two concurrent calls one wins
// and the other gets already_paid. Errors: Forbidden forbidden_role;
// Invalid validation_failed (paid_on, bank_reference); NotFound
// batch_not_found; Conflict already_paid, not_exported, batch_empty,
// claims_changed.
func (s *Service) MarkPaid(ctx context.Context, p *accounts.Principal, id int64, in PaidInput) (*Batch, error) {
	if !p.Is(payers...) {
		return nil, forbidPayer()
	}
	var fields []apperr.FieldError
	paidOn, err := time.Parse(time.DateOnly, strings.TrimSpace(in.PaidOn))
	switch {
	case err != nil:
		fields = append(fields, apperr.FieldError{Field: "paid_on", Code: "invalid_date", Message: "拨付日期格式应为 YYYY-MM-DD"})
	case paidOn.After(s.today()):
		fields = append(fields, apperr.FieldError{Field: "paid_on", Code: "future_date", Message: "拨付日期不能晚于今天"})
	}
	ref := strings.TrimSpace(in.BankReference)
	if ref == "" || utf8.RuneCountInString(ref) > 100 {
		fields = append(fields, apperr.FieldError{Field: "bank_reference", Code: "bank_reference_required", Message: "请填写银行回单号（不超过 100 字）"})
	}
	if len(fields) > 0 {
		return nil, apperr.Invalid("validation_failed", "拨付信息填写有误", fields...)
	}
	var b *Batch
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		won, err := st.MarkPaid(ctx, p, id, paidOn, ref, s.now())
		if err != nil {
			return err
		}
		if !won {
			cur, err := st.BatchByID(ctx, p, id)
			if err != nil {
				return err
			}
			switch {
			case cur.Status == StatusPaid:
				return apperr.Conflict("already_paid", "该批次已于 "+cur.PaidOn.Format(time.DateOnly)+" 标记为已拨付，不能重复拨付")
			case cur.Claims == 0:
				return apperr.Conflict("batch_empty", "批次中没有补贴申请，不能标记拨付")
			default:
				return apperr.Conflict("not_exported", "请先导出银行文件并交银行办理，再标记拨付")
			}
		}
		if b, err = st.BatchByID(ctx, p, id); err != nil {
			return err
		}
		if b.ExportedAt != nil && paidOn.Before(dateIn(*b.ExportedAt, s.loc)) {
			return apperr.Invalid("validation_failed", "拨付信息填写有误",
				apperr.FieldError{Field: "paid_on", Code: "before_export", Message: "拨付日期不能早于银行文件导出日期 " + dateIn(*b.ExportedAt, s.loc).Format(time.DateOnly)})
		}
		items, _, err := st.Items(ctx, id, ItemFilter{Statuses: []ItemStatus{ItemIncluded}})
		if err != nil {
			return err
		}
		ids := make([]int64, len(items))
		for i, it := range items {
			ids[i] = it.ClaimID
		}
		if n, err := claims.PayForPayout(ctx, tx, ids, paidOn); err != nil {
			return err
		} else if n != int64(len(ids)) {
			return errMoved(n, len(ids))
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "payouts.batch_paid", TargetType: "payout_batch",
			TargetID: strconv.FormatInt(id, 10), Summary: map[string]any{"claims": len(ids), "total_yuan": b.TotalYuan,
				"paid_on": paidOn.Format(time.DateOnly), "bank_reference": ref}})
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// dateIn is the calendar date of t in loc, as a UTC midnight.
func dateIn(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ReturnResult is what a return file did.
type ReturnResult struct {
	Returned     int
	ReturnedYuan int64
	Batch        *Batch
}

// ImportReturns reads the bank's return file for paid batch id and moves the
// claims it names to returned with the bank's reason, all or nothing: a row
// naming an unknown person, a person not paid in this batch, a wrong or
// negative amount, or a payment already returned makes the whole file 422
// return_file_invalid with every faulty row and field, and nothing is
// stored. Errors: Forbidden forbidden_role; NotFound batch_not_found;
// Conflict batch_not_paid; Invalid return_file_invalid and the file errors
// of ParseReturns.
func (s *Service) ImportReturns(ctx context.Context, p *accounts.Principal, id int64, data []byte, name string) (*ReturnResult, error) {
	if !p.Is(payers...) {
		return nil, forbidPayer()
	}
	if _, err := s.Batch(ctx, p, id); err != nil {
		return nil, err // 404 before reading a file about a batch one cannot see
	}
	lines, err := ParseReturns(data, name)
	if err != nil {
		return nil, err
	}
	res := &ReturnResult{}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		b, err := st.LockBatch(ctx, p, id)
		if err != nil {
			return err
		}
		if b.Status != StatusPaid {
			return apperr.Conflict("batch_not_paid", "批次尚未标记拨付，不能导入银行退回")
		}
		items, _, err := st.Items(ctx, id, ItemFilter{Statuses: []ItemStatus{ItemIncluded, ItemReturned}})
		if err != nil {
			return err
		}
		matched, errs, err := s.matchReturns(ctx, tx, lines, items)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return returnFileInvalid(errs)
		}
		ids := make([]int64, 0, len(matched))
		now := s.now()
		for _, m := range matched {
			if err := st.ReturnItem(ctx, m.item.ID, m.line.Reason, now); err != nil {
				return err
			}
			ids = append(ids, m.item.ClaimID)
			res.ReturnedYuan += m.item.AmountYuan
		}
		if n, err := claims.MoveForPayout(ctx, tx, ids, claims.PayoutPaid, claims.PayoutReturned); err != nil {
			return err
		} else if n != int64(len(ids)) {
			return errMoved(n, len(ids))
		}
		res.Returned = len(ids)
		if res.Batch, err = st.BatchByID(ctx, p, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "payouts.returns_import", TargetType: "payout_batch",
			TargetID: strconv.FormatInt(id, 10), Summary: map[string]any{"returned": res.Returned, "returned_yuan": res.ReturnedYuan, "claim_ids": ids}})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

type returnMatch struct {
	line ReturnLine
	item Item
}

// matchReturns finds, for each line, the paid item it names: by the ID
// number's blind index (through the worker) or by the account's (as the bank
// file carried it), then by amount. Each item is matched once.
func (s *Service) matchReturns(ctx context.Context, idb bun.IDB, lines []ReturnLine, items []Item) ([]returnMatch, []apperr.FieldError, error) {
	var errs []apperr.FieldError
	bad := func(l ReturnLine, field, code, msg string) {
		errs = append(errs, apperr.FieldError{Field: field, Row: l.Row, Code: code, Message: "第 " + strconv.Itoa(l.Row) + " 行：" + msg})
	}
	used := map[int64]bool{}
	var out []returnMatch
	ws := workers.NewStore(idb)
	for _, l := range lines {
		var cands []Item
		field := "身份证号"
		if l.IDNumber != "" {
			w, err := ws.ByIDNumberIdx(ctx, s.workers.IDNumberIndex(l.IDNumber))
			if apperr.KindOf(err) == apperr.KindNotFound {
				bad(l, field, CodeUnknownPerson, "身份证号 "+pii.MaskID(l.IDNumber)+" 查无此人")
				continue
			} else if err != nil {
				return nil, nil, err
			}
			for _, it := range items {
				if it.WorkerID == w.ID {
					cands = append(cands, it)
				}
			}
		} else {
			field = "账号"
			idx := s.workers.BankAccountIndex(l.Account)
			for _, it := range items {
				if bytes.Equal(it.AccountIdx, idx) {
					cands = append(cands, it)
				}
			}
			if len(cands) == 0 {
				bad(l, field, CodeUnknownPerson, "账号 "+pii.MaskBank(l.Account)+" 不是本批次拨付的账号")
				continue
			}
		}
		if len(cands) == 0 {
			bad(l, field, CodeNotInBatch, "此人不在本批次中")
			continue
		}
		var amounts []string
		var pick *Item
		returned := false
		for i := range cands {
			c := &cands[i]
			if c.AmountYuan != l.AmountYuan {
				amounts = append(amounts, strconv.FormatInt(c.AmountYuan, 10))
				continue
			}
			if c.Status == ItemReturned {
				returned = true
				continue
			}
			if !used[c.ID] {
				pick = c
				break
			}
		}
		switch {
		case pick != nil:
			used[pick.ID] = true
			out = append(out, returnMatch{line: l, item: *pick})
		case len(amounts) == len(cands):
			slices.Sort(amounts)
			bad(l, "金额", CodeAmountMismatch, "金额 "+strconv.FormatInt(l.AmountYuan, 10)+" 元与本批次拨付给此人的金额（"+strings.Join(slices.Compact(amounts), "、")+" 元）不符")
		case returned:
			bad(l, field, "already_returned", "这笔拨付已登记为退回")
		default:
			bad(l, field, CodeDuplicateLine, "同一笔拨付在文件中出现了不止一次")
		}
	}
	return out, errs, nil
}

// ReleaseReturns makes payable again every returned claim under region
// whose worker has changed their bank account since the return; they join
// the next batch. Errors: Forbidden forbidden_role; NotFound
// region_not_found.
func (s *Service) ReleaseReturns(ctx context.Context, p *accounts.Principal, region string) (int, error) {
	if !p.Is(payers...) {
		return 0, forbidPayer()
	}
	var n int
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		r, err := regionInScope(ctx, tx, p, region)
		if err != nil {
			return err
		}
		n, err = s.releaseFixed(ctx, tx, accounts.RegionPrefix(r.Code))
		return err
	})
	return n, err
}

// ReleaseAll is ReleaseReturns for the whole province, for the scheduled
// job.
func (s *Service) ReleaseAll(ctx context.Context) (int, error) {
	var n int
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		n, err = s.releaseFixed(ctx, tx, "42")
		return err
	})
	return n, err
}

// releaseFixed moves returned claims under prefix whose worker now has a
// bank account other than the one the bank returned the money from back to
// payable, inside tx.
func (s *Service) releaseFixed(ctx context.Context, tx bun.Tx, prefix string) (int, error) {
	claimIDs, err := NewStore(tx).ReleaseFixedReturns(ctx, prefix, s.now())
	if err != nil || len(claimIDs) == 0 {
		return 0, err
	}
	if n, err := claims.MoveForPayout(ctx, tx, claimIDs, claims.PayoutReturned, claims.PayoutPayable); err != nil {
		return 0, err
	} else if n != int64(len(claimIDs)) {
		return 0, errMoved(n, len(claimIDs))
	}
	if err := audit.Record(ctx, tx, audit.Event{Action: "payouts.returns_release", TargetType: "claims",
		TargetID: prefix, Summary: map[string]any{"claim_ids": claimIDs}}); err != nil {
		return 0, err
	}
	return len(claimIDs), nil
}

// Payable returns the payable claims under region that no batch holds yet,
// without locking them (for pages and the demo). Errors: Forbidden
// forbidden_role; NotFound region_not_found.
func (s *Service) Payable(ctx context.Context, p *accounts.Principal, region string) ([]claims.PayableClaim, error) {
	if !p.Is(readers...) {
		return nil, apperr.Forbidden("forbidden_role", "您的角色无权查看拨付批次")
	}
	var out []claims.PayableClaim
	err := s.db.RunInTx(ctx, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		r, err := regionInScope(ctx, tx, p, region)
		if err != nil {
			return err
		}
		out, err = claims.Payable(ctx, tx, accounts.RegionPrefix(r.Code))
		return err
	})
	return out, err
}
