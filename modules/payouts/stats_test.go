package payouts

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestStatsMatchFreshCounts compares every claim and payment figure of the
// overview with counts the test makes itself on the tables.
func TestStatsMatchFreshCounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	year := time.Now().In(shanghai).Year()
	statuses := []string{"submitted", "reviewed", "notice", "payable", "rejected", "payable", "notice"}
	for i, st := range statuses {
		w := e.worker("统计", true)
		submitted := time.Date(year, time.Month(1+i%12), 10, 9, 0, 0, 0, shanghai)
		e.kit.Claim(t, w.ID, e.region, "training", st, int64(100*(i+1)), submitted)
	}
	// Half an hour into March in 湖北 is still February in UTC: it counts in
	// March.
	edge := e.worker("月初", true)
	e.kit.Claim(t, edge.ID, e.region, "training", "submitted", 300, time.Date(year, 3, 1, 0, 30, 0, 0, shanghai))
	// Last year's claim counts in no month of this year.
	old := e.worker("去年", true)
	e.kit.Claim(t, old.ID, e.region, "training", "payable", 999, time.Date(year-1, 12, 30, 9, 0, 0, 0, shanghai))
	b, err := e.svc.CreateBatch(ctx, e.approver, e.region)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := e.exportRows(b.ID)
	if _, err := e.paid(b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ImportReturns(ctx, e.approver, b.ID, []byte("身份证号,金额,失败原因\n"+rows[1][1]+","+rows[1][4]+",户名不符\n"), "r.csv"); err != nil {
		t.Fatal(err)
	}

	st, err := e.svc.Stats(ctx, e.approver, e.region, year)
	if err != nil {
		t.Fatal(err)
	}
	count := func(q string, args ...any) (n, yuan int64) {
		t.Helper()
		if err := e.db.NewRaw(q, args...).Scan(ctx, &n, &yuan); err != nil {
			t.Fatal(err)
		}
		return
	}
	from, to := time.Date(year, 1, 1, 0, 0, 0, 0, shanghai), time.Date(year+1, 1, 1, 0, 0, 0, 0, shanghai)
	claimed, _ := count(`SELECT count(*), 0 FROM claims WHERE region_code = ? AND submitted_at >= ? AND submitted_at < ?`, e.region, from, to)
	approved, approvedYuan := count(`SELECT count(*), coalesce(sum(amount_yuan), 0) FROM claims WHERE region_code = ? AND approved_on >= ? AND approved_on < ?`, e.region, from.Format(time.DateOnly), to.Format(time.DateOnly))
	paid, paidYuan := count(`SELECT count(*), coalesce(sum(i.amount_yuan), 0) FROM payout_batch_items i JOIN payout_batches b ON b.id = i.batch_id
		WHERE i.region_code = ? AND b.status = 'paid' AND i.status = 'included' AND b.paid_on >= ? AND b.paid_on < ?`, e.region, from, to)
	returned, returnedYuan := count(`SELECT count(*), coalesce(sum(amount_yuan), 0) FROM payout_batch_items WHERE region_code = ? AND status = 'returned'`, e.region)
	got := st.Total
	if got.Claimed != claimed || got.Approved != approved || got.ApprovedYuan != approvedYuan ||
		got.Paid != paid || got.PaidYuan != paidYuan || got.Returned != returned || got.ReturnedYuan != returnedYuan {
		t.Fatalf("overview %+v\nfresh: claimed %d, approved %d/%d, paid %d/%d, returned %d/%d",
			got, claimed, approved, approvedYuan, paid, paidYuan, returned, returnedYuan)
	}
	if st.Months[2].Claimed == 0 {
		t.Error("the claim of 1 March 00:30 (Asia/Shanghai) is not counted in March")
	}
	if claimed != 8 || approved != 4 || paid == 0 || returned != 1 {
		t.Fatalf("the fixture is not what the test means: claimed %d approved %d paid %d returned %d", claimed, approved, paid, returned)
	}
	// By status and by month, the same.
	for _, s := range ClaimStatuses {
		n, _ := count(`SELECT count(*), 0 FROM claims WHERE region_code = ? AND status = ? AND submitted_at >= ? AND submitted_at < ?`, e.region, s, from, to)
		if got.ByStatus[s] != n {
			t.Errorf("status %s: overview %d, fresh %d", s, got.ByStatus[s], n)
		}
	}
	for m := 1; m <= 12; m++ {
		mf, mt := time.Date(year, time.Month(m), 1, 0, 0, 0, 0, shanghai), time.Date(year, time.Month(m+1), 1, 0, 0, 0, 0, shanghai)
		n, _ := count(`SELECT count(*), 0 FROM claims WHERE region_code = ? AND submitted_at >= ? AND submitted_at < ?`, e.region, mf, mt)
		a, ay := count(`SELECT count(*), coalesce(sum(amount_yuan), 0) FROM claims WHERE region_code = ? AND approved_on >= ? AND approved_on < ?`, e.region, mf.Format(time.DateOnly), mt.Format(time.DateOnly))
		f := st.Months[m-1]
		if f.Claimed != n || f.Approved != a || f.ApprovedYuan != ay || f.Month != fmt.Sprintf("%d-%02d", year, m) {
			t.Errorf("month %d: overview %+v, fresh claimed %d approved %d/%d", m, f.Figures, n, a, ay)
		}
	}
	if len(st.Regions) != 1 || st.Regions[0].Code != e.region || st.Regions[0].Claimed != claimed {
		t.Errorf("regions = %+v", st.Regions)
	}
}
