package payouts

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/workers/workerstest"
)

func TestBatchLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	zhang, li := e.worker("张三", true), e.worker("李四", true)
	wang := e.worker("王五", false) // no bank account: blocks the export
	c1, c2, c3 := e.payable(zhang.ID, 1500), e.payable(li.ID, 200), e.payable(wang.ID, 2000)

	b, err := e.svc.CreateBatch(ctx, e.approver, e.region)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != StatusDraft || b.Claims != 3 || b.TotalYuan != 3700 || b.RegionCode != e.region {
		t.Fatalf("batch = %+v", b)
	}
	for _, c := range []int64{c1, c2, c3} {
		if s := e.claimStatus(c); s != "batched" {
			t.Errorf("claim %d is %s, want batched", c, s)
		}
	}
	if _, err := e.svc.CreateBatch(ctx, e.approver, e.region); !apperr.Is(err, "nothing_payable") {
		t.Fatalf("second batch: %v", err)
	}

	// 王五 blocks the export, by name; nothing is exported.
	blocking, err := e.svc.Blocking(ctx, b)
	if err != nil || len(blocking) != 1 || blocking[0].ClaimID != c3 || blocking[0].WorkerName != "王五" {
		t.Fatalf("blocking = %+v, %v", blocking, err)
	}
	var sink strings.Builder
	_ = sink
	_, err = e.svc.Export(ctx, e.approver, b.ID, new(bytesBuffer))
	if e, ok := apperr.As(err); !ok || e.Code != "missing_bank_account" || !strings.Contains(e.Message, "王五") {
		t.Fatalf("export with a blocking worker: %v", err)
	}
	if _, err := e.svc.RemoveClaim(ctx, e.approver, b.ID, c3, " "); !apperr.Is(err, "reason_required") {
		t.Fatalf("remove without reason: %v", err)
	}
	if b, err = e.svc.RemoveClaim(ctx, e.approver, b.ID, c3, "未登记银行账户"); err != nil || b.Claims != 2 || b.TotalYuan != 1700 {
		t.Fatalf("remove: %+v %v", b, err)
	}
	if s := e.claimStatus(c3); s != "payable" {
		t.Fatalf("removed claim is %s", s)
	}
	if _, err := e.svc.RemoveClaim(ctx, e.approver, b.ID, c3, "再来"); !apperr.Is(err, "claim_not_in_batch") {
		t.Fatalf("remove twice: %v", err)
	}

	// The bank file: header, one row per claim in clear, the total.
	if _, err := e.paid(b.ID); !apperr.Is(err, "not_exported") {
		t.Fatalf("paid before export: %v", err)
	}
	rows, b := e.exportRows(b.ID)
	if b.Status != StatusExported || b.Exports != 1 {
		t.Fatalf("after export: %+v", b)
	}
	if len(rows) != 4 {
		t.Fatalf("bank file rows = %d", len(rows))
	}
	byID := map[string][]string{}
	var sum int64
	for _, r := range rows[1:3] {
		byID[r[1]] = r
		v, _ := strconv.ParseInt(r[4], 10, 64)
		sum += v
		if r[6] != b.Number() || r[5] != "技能提升补贴" {
			t.Errorf("row %v", r)
		}
	}
	if r := byID[zhang.IDNumber]; r == nil || r[0] != "张三" || r[2] != zhang.Account || r[4] != "1500" {
		t.Errorf("张三's row = %v", r)
	}
	if r := byID[li.IDNumber]; r == nil || r[2] != li.Account || r[4] != "200" {
		t.Errorf("李四's row = %v", r)
	}
	if rows[3][0] != "合计" || rows[3][4] != "1700" || sum != 1700 {
		t.Errorf("totals row %v, sum %d", rows[3], sum)
	}
	if _, err := e.svc.RemoveClaim(ctx, e.approver, b.ID, c1, "晚了"); !apperr.Is(err, "batch_not_draft") {
		t.Fatalf("remove after export: %v", err)
	}
	var exports int
	if err := e.db.NewRaw("SELECT count(*) FROM audit_events WHERE action = 'payouts.batch_export' AND target_id = ? AND actor_user_id = ?",
		strconv.FormatInt(b.ID, 10), e.approver.UserID).Scan(ctx, &exports); err != nil || exports != 1 {
		t.Errorf("export audit events = %d, %v", exports, err)
	}

	// Paid exactly once.
	if _, err := e.svc.MarkPaid(ctx, e.approver, b.ID, PaidInput{PaidOn: "2099-01-01", BankReference: "x"}); !apperr.Is(err, "validation_failed") {
		t.Fatalf("future paid_on: %v", err)
	}
	if b, err = e.paid(b.ID); err != nil || b.Status != StatusPaid {
		t.Fatalf("paid: %+v %v", b, err)
	}
	for _, c := range []int64{c1, c2} {
		if s := e.claimStatus(c); s != "paid" {
			t.Errorf("claim %d is %s after paid", c, s)
		}
	}
	if _, err := e.paid(b.ID); !apperr.Is(err, "already_paid") {
		t.Fatalf("paid twice: %v", err)
	}
	if _, err := e.svc.Export(ctx, e.approver, b.ID, new(bytesBuffer)); !apperr.Is(err, "already_paid") {
		t.Fatalf("export after paid: %v", err)
	}

	// The bank returns 张三's payment.
	res, err := e.svc.ImportReturns(ctx, e.approver, b.ID, []byte("身份证号,金额,失败原因\n"+zhang.IDNumber+",1500,账户已销户\n"), "back.csv")
	if err != nil || res.Returned != 1 || res.ReturnedYuan != 1500 {
		t.Fatalf("returns: %+v %v", res, err)
	}
	b = res.Batch
	if b.ReturnedYuan != 1500 || b.PaidYuan() != 200 || b.PaidYuan()+b.ReturnedYuan != b.TotalYuan {
		t.Fatalf("reconcile: %+v", b)
	}
	if s := e.claimStatus(c1); s != "returned" {
		t.Fatalf("returned claim is %s", s)
	}
	// Not payable again while the account is the same one.
	if n, err := e.svc.ReleaseReturns(ctx, e.approver, e.region); err != nil || n != 0 {
		t.Fatalf("release without a fix: %d %v", n, err)
	}
	// The worker fixes the account; 王五 registers one: the next batch takes
	// both the returned claim and the removed one.
	e.setAccount(zhang.ID)
	e.setAccount(wang.ID)
	next, err := e.svc.CreateBatch(ctx, e.approver, e.region)
	if err != nil || next.Claims != 2 || next.TotalYuan != 3500 {
		t.Fatalf("next batch: %+v %v", next, err)
	}
	if s := e.claimStatus(c1); s != "batched" {
		t.Fatalf("returned claim after the fix is %s", s)
	}
	items, _, err := e.svc.Items(ctx, e.approver, b.ID, 10, 0)
	if err != nil || len(items) != 3 {
		t.Fatalf("items: %v %v", items, err)
	}
	for _, it := range items {
		if it.ClaimID == c1 && (it.Status != ItemReturned || it.ReleasedAt == nil || *it.ReturnReason != "账户已销户") {
			t.Errorf("returned item = %+v", it.Item)
		}
	}
}

// bytesBuffer is a bytes.Buffer for exports the test does not read.
type bytesBuffer = bytesBuf

func TestReturnFileRefusedWholeWithRowErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, bb := e.worker("赵一", true), e.worker("钱二", true)
	stranger := e.worker("孙三", true) // on file, not in the batch
	e.payable(a.ID, 1000)
	e.payable(bb.ID, 700)
	b, err := e.svc.CreateBatch(ctx, e.approver, e.region)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ImportReturns(ctx, e.approver, b.ID, []byte("身份证号,金额,失败原因\n"+a.IDNumber+",1000,x\n"), "r.csv"); !apperr.Is(err, "batch_not_paid") {
		t.Fatalf("returns on a draft: %v", err)
	}
	e.exportRows(b.ID)
	if _, err := e.paid(b.ID); err != nil {
		t.Fatal(err)
	}
	unknown := workerstest.IDNumber(e.region)
	file := "身份证号,账号,金额,失败原因\n" +
		a.IDNumber + ",,999,户名不符\n" + // wrong amount
		unknown + ",,1000,查无此户\n" + // nobody
		stranger.IDNumber + ",,1000,x\n" + // not in the batch
		bb.IDNumber + ",,-700,x\n" + // negative
		",6222000000000000001,700,x\n" + // an account the file never carried
		bb.IDNumber + ",,700,账户冻结\n" // fine, but the file is refused whole
	_, err = e.svc.ImportReturns(ctx, e.approver, b.ID, []byte(file), "r.csv")
	ae, ok := apperr.As(err)
	if !ok || ae.Code != "return_file_invalid" || ae.Kind != apperr.KindInvalid {
		t.Fatalf("err = %v", err)
	}
	got := map[int]string{}
	for _, f := range ae.Fields {
		got[f.Row] = f.Code
		if !strings.Contains(f.Message, "第 "+strconv.Itoa(f.Row)+" 行") {
			t.Errorf("message %q does not name its row", f.Message)
		}
	}
	// Parse errors come first (the negative amount); matching is not
	// attempted on a file that does not parse.
	if len(got) != 1 || got[5] != CodeAmountNegative {
		t.Fatalf("parse errors = %v", got)
	}
	file = strings.Replace(file, ",-700,", ",700,", 1)
	_, err = e.svc.ImportReturns(ctx, e.approver, b.ID, []byte(file), "r.csv")
	ae, _ = apperr.As(err)
	got = map[int]string{}
	for _, f := range ae.Fields {
		got[f.Row] = f.Code
	}
	want := map[int]string{2: CodeAmountMismatch, 3: CodeUnknownPerson, 4: CodeNotInBatch, 6: CodeUnknownPerson, 7: CodeDuplicateLine}
	for row, code := range want {
		if got[row] != code {
			t.Errorf("row %d: %q, want %q (all: %v)", row, got[row], code, got)
		}
	}
	if _, ok := got[5]; ok {
		t.Errorf("row 5 is fine but reported: %v", got)
	}
	// Nothing stored.
	cur, _ := e.svc.Batch(ctx, e.approver, b.ID)
	if cur.ReturnedClaims != 0 || cur.ReturnedYuan != 0 {
		t.Fatalf("a refused file changed the batch: %+v", cur)
	}
	// The good line alone, by account, goes through; then again it is
	// already returned.
	back := "账号,金额,失败原因\n" + bb.Account + ",700,账户冻结\n"
	if res, err := e.svc.ImportReturns(ctx, e.approver, b.ID, []byte(back), "r.csv"); err != nil || res.Returned != 1 {
		t.Fatalf("by account: %+v %v", res, err)
	}
	_, err = e.svc.ImportReturns(ctx, e.approver, b.ID, []byte(back), "r.csv")
	if ae, _ := apperr.As(err); ae == nil || len(ae.Fields) != 1 || ae.Fields[0].Code != "already_returned" {
		t.Fatalf("returned twice: %v", err)
	}
}

func TestConcurrentPaidOneWins(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ids []int64
	for i := 0; i < 30; i++ {
		ids = append(ids, e.payable(e.worker("并发"+strconv.Itoa(i)[:0]+"甲", true).ID, 100+int64(i)))
	}
	b, err := e.svc.CreateBatch(ctx, e.approver, e.region)
	if err != nil {
		t.Fatal(err)
	}
	e.exportRows(b.ID)
	const callers = 8
	var wg sync.WaitGroup
	errs := make([]error, callers)
	start := make(chan struct{})
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, errs[i] = e.paid(b.ID)
		}(i)
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !apperr.Is(err, "already_paid"):
			t.Errorf("loser got %v, want already_paid", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d callers marked the batch paid, want exactly 1", won)
	}
	var paidEvents int
	_ = e.db.NewRaw("SELECT count(*) FROM audit_events WHERE action = 'payouts.batch_paid' AND target_id = ?", strconv.FormatInt(b.ID, 10)).Scan(ctx, &paidEvents)
	if paidEvents != 1 {
		t.Errorf("%d paid events", paidEvents)
	}
	for _, c := range ids {
		if s := e.claimStatus(c); s != "paid" {
			t.Errorf("claim %d is %s", c, s)
		}
	}
}

func TestConcurrentBatchesTakeEachClaimOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		e.payable(e.worker("批次乙", true).ID, 300)
	}
	// A city approver and the county approver build at the same time.
	city := e.region[:4] + "00"
	cityApprover := workerstest.Staff(t, e.db, accounts.RoleHRApprover, workerstest.Org(t, e.db, "hr_bureau", city), city)
	var wg sync.WaitGroup
	var got [2]*Batch
	var errs [2]error
	for i, p := range []*accounts.Principal{e.approver, cityApprover} {
		wg.Add(1)
		go func(i int, p *accounts.Principal) {
			defer wg.Done()
			got[i], errs[i] = e.svc.CreateBatch(ctx, p, e.region)
		}(i, p)
	}
	wg.Wait()
	total := 0
	for i := range got {
		switch {
		case errs[i] == nil:
			total += got[i].Claims
		case !apperr.Is(errs[i], "nothing_payable") && !apperr.Is(errs[i], "claim_in_batch"):
			t.Errorf("caller %d: %v", i, errs[i])
		}
	}
	if total != 20 {
		t.Fatalf("claims batched = %d, want 20 (each once)", total)
	}
	// The database refuses a second inclusion whatever the code does.
	var item Item
	if err := e.db.NewSelect().Model(&item).Where("pi.region_code = ? AND pi.status = 'included'", e.region).Limit(1).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	other := &Batch{RegionCode: e.region, CreatedBy: e.approver.UserID}
	if err := NewStore(e.db).InsertBatch(ctx, other); err != nil {
		t.Fatal(err)
	}
	item.ID, item.BatchID = 0, other.ID
	if err := NewStore(e.db).InsertItems(ctx, []Item{item}); !apperr.Is(err, "claim_in_batch") {
		t.Fatalf("second inclusion: %v", err)
	}
}

func TestBatchRulesInTheDatabase(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w := e.worker("规则丙", true)
	e.payable(w.ID, 500)
	b, err := e.svc.CreateBatch(ctx, e.approver, e.region)
	if err != nil {
		t.Fatal(err)
	}
	// No amount of zero or less.
	if _, err := e.db.ExecContext(ctx, "UPDATE payout_batch_items SET amount_yuan = 0 WHERE batch_id = ?", b.ID); err == nil {
		t.Error("an item's amount changed to 0")
	}
	// Paying a draft directly is refused by the constraints' companions:
	// an exported or paid batch is never empty.
	empty := &Batch{RegionCode: e.region, CreatedBy: e.approver.UserID}
	if err := NewStore(e.db).InsertBatch(ctx, empty); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ExecContext(ctx, "UPDATE payout_batches SET status = 'exported', exported_at = now(), exports = 1 WHERE id = ?", empty.ID); err == nil {
		t.Error("an empty batch was exported")
	}
	if _, err := e.paid(empty.ID); !apperr.Is(err, "batch_empty") {
		t.Errorf("paying an empty batch: %v", err)
	}
	e.exportRows(b.ID)
	// Items join only drafts; items are never deleted.
	if _, err := e.db.ExecContext(ctx, `INSERT INTO payout_batch_items (batch_id, claim_id, worker_id, region_code, subsidy, amount_yuan)
		VALUES (?, 999999, ?, ?, 'training', 10)`, b.ID, w.ID, e.region); err == nil {
		t.Error("an item joined an exported batch")
	}
	if _, err := e.db.ExecContext(ctx, "DELETE FROM payout_batch_items WHERE batch_id = ?", b.ID); err == nil {
		t.Error("an item was deleted")
	}
	// Returns only from a paid batch.
	if _, err := e.db.ExecContext(ctx, "UPDATE payout_batch_items SET status = 'returned', returned_at = now(), return_reason = 'x' WHERE batch_id = ?", b.ID); err == nil {
		t.Error("an item of an unpaid batch was returned")
	}
}

func TestBatchScope(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.payable(e.worker("范围丁", true).ID, 800)
	b, err := e.svc.CreateBatch(ctx, e.approver, e.region)
	if err != nil {
		t.Fatal(err)
	}
	far := "420602"
	stranger := workerstest.Staff(t, e.db, accounts.RoleHRApprover, workerstest.Org(t, e.db, "hr_bureau", far), far)
	if _, err := e.svc.Batch(ctx, stranger, b.ID); !apperr.Is(err, "batch_not_found") {
		t.Errorf("foreign batch: %v", err)
	}
	if _, err := e.svc.MarkPaid(ctx, stranger, b.ID, PaidInput{PaidOn: "2026-01-05", BankReference: "x"}); !apperr.Is(err, "batch_not_found") {
		t.Errorf("paying a foreign batch: %v", err)
	}
	if _, err := e.svc.Export(ctx, stranger, b.ID, new(bytesBuf)); !apperr.Is(err, "batch_not_found") {
		t.Errorf("exporting a foreign batch: %v", err)
	}
	if _, err := e.svc.CreateBatch(ctx, stranger, e.region); !apperr.Is(err, "region_not_found") {
		t.Errorf("batch of a foreign region: %v", err)
	}
	reviewer := workerstest.Staff(t, e.db, accounts.RoleHRReviewer, workerstest.Org(t, e.db, "hr_bureau", e.region), e.region)
	if _, err := e.svc.CreateBatch(ctx, reviewer, e.region); apperr.KindOf(err) != apperr.KindForbidden {
		t.Errorf("reviewer builds a batch: %v", err)
	}
	list, n, err := e.svc.Batches(ctx, stranger, "", 20, 0)
	if err != nil || n != 0 || len(list) != 0 {
		t.Errorf("stranger's list: %d %v", n, err)
	}
}
