package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// payoutJourney: hr_approver1 takes a claim out of the demo's draft batch,
// builds a new batch of what is payable in 武汉, downloads the bank file and
// checks its rows and total, marks the batch paid, imports the bank's
// return of one payment, fixes that worker's bank account, and sees the
// returned claim payable again: it joins the next batch (DESIGN §4.5).
func payoutJourney(t *testing.T, srv *Server) {
	b := srv.Browser(t)
	b.Login("hr_approver1")
	if status := b.Visit("/payout-batches"); status != http.StatusOK {
		t.Fatalf("/payout-batches answered %d", status)
	}
	// The demo's draft: move one claim out, so there is something payable.
	drafts := b.Attrs(`tbody tr:has(td:nth-child(3)) a[href^="/payout-batches/"]`, "href")
	var draft string
	for i, st := range b.Texts(`main table tbody tr td:nth-child(3)`) {
		if st == "草稿" && i < len(drafts) {
			draft = drafts[i]
		}
	}
	if draft == "" {
		t.Fatal("the demo has no draft payout batch")
	}
	b.Visit(draft)
	form := `table.items tr[data-status="included"] form`
	if !b.Exists(form) {
		t.Fatalf("the draft %s has no claim to move out", draft)
	}
	b.Fill(form+` input[name="reason"]`, "材料待补")
	if status := b.Submit(form + ` button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("moving a claim out answered %d: %q", status, b.Texts(".alert"))
	}

	// Build a batch of everything payable in 武汉.
	b.Visit("/payout-batches")
	b.Fill(`form[action="/payout-batches"] input[name="region"]`, "420100")
	if status := b.Submit(`form[action="/payout-batches"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("building a batch answered %d: %q", status, b.Texts(".alert"))
	}
	batchPath := b.Path()
	if !regexp.MustCompile(`^/payout-batches/[0-9]+$`).MatchString(batchPath) {
		t.Fatalf("after building, the page is %s", batchPath)
	}
	number := strings.TrimPrefix(b.Text("h1"), "拨付批次 ")
	claims := b.Attrs(`table.items tr[data-status="included"]`, "data-claim")
	if len(claims) == 0 {
		t.Fatal("the new batch holds no claim")
	}

	// The bank file: one row per claim, the totals row equal to their sum.
	name, data := b.Download(`a[href="` + batchPath + `/export.xlsx"]`)
	if name != number+".xlsx" {
		t.Errorf("the bank file is named %q, want %s.xlsx", name, number)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the bank file is no XLSX: %v", err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(claims)+2 {
		t.Fatalf("the bank file has %d rows for %d claims (want header, rows, total)", len(rows), len(claims))
	}
	if got := strings.Join(rows[0], ","); got != "姓名,身份证号,社保卡/银行账号,开户行,金额(元),补贴类别,批次号" {
		t.Errorf("header %q", got)
	}
	var sum int64
	for _, r := range rows[1 : len(rows)-1] {
		v, err := strconv.ParseInt(r[4], 10, 64)
		if err != nil || v <= 0 || len(r[1]) != 18 || r[6] != number {
			t.Errorf("row %q", r)
		}
		sum += v
	}
	total := rows[len(rows)-1]
	if total[0] != "合计" || total[4] != strconv.FormatInt(sum, 10) {
		t.Errorf("totals row %q, rows sum to %d", total, sum)
	}

	// Paid.
	b.Visit(batchPath)
	b.Fill(`input[name="bank_reference"]`, "HB"+number)
	if status := b.Submit(`form[action="` + batchPath + `/paid"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("marking paid answered %d: %q %q", status, b.Texts(".alert"), b.Texts(".errors li"))
	}
	if facts := b.Text("dl.facts"); !strings.Contains(facts, "已拨付") {
		t.Fatalf("after paying the batch shows %q", facts)
	}

	// The bank returns the first payment.
	first := rows[1]
	back := fmt.Sprintf("身份证号,金额,失败原因\n%s,%s,账户已销户\n", first[1], first[4])
	b.Upload(`form[action="`+batchPath+`/returns"] input[type="file"]`, "退回清单.csv", []byte(back))
	if status := b.Submit(`form[action="` + batchPath + `/returns"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("importing the return answered %d: %q %q", status, b.Texts(".alert"), b.Texts(".errors li"))
	}
	if notice := b.Text(".notice"); !strings.Contains(notice, "已登记银行退回 1 笔，共 "+first[4]+" 元") {
		t.Errorf("after the return: %q", notice)
	}
	want := fmt.Sprintf("已拨付 %d 元 + 退回 %s 元 = 批次 %d 元", sum-mustInt(t, first[4]), first[4], sum)
	if facts := b.Text("dl.facts"); !strings.Contains(facts, want) {
		t.Errorf("the batch does not reconcile: %q, want %q", facts, want)
	}
	returned := b.Attrs(`table.items tr[data-status="returned"]`, "data-claim")
	if len(returned) != 1 {
		t.Fatalf("returned claims on the page: %v", returned)
	}
	worker := b.Attrs(`table.items tr[data-status="returned"] a[href^="/workers/"]`, "href")
	if strings.Contains(b.HTML(), first[1]) {
		t.Error("the batch page carries a full ID number")
	}

	// Not payable again until the account changes; then it is.
	b.Visit("/payout-batches")
	b.Submit(`form[action="/payout-batches/release-returns"] button[type="submit"]`)
	if notice := b.Text(".notice"); !strings.Contains(notice, "0 笔") {
		t.Errorf("before the fix: %q", notice)
	}
	b.Visit(worker[0] + "/edit")
	b.Fill(`input[name="bank_account"]`, "6217 0000 1111 2222 333")
	if status := b.Submit(`form[action="` + worker[0] + `/edit"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("fixing the account answered %d: %q", status, b.Texts(".alert"))
	}
	b.Visit("/payout-batches")
	b.Submit(`form[action="/payout-batches/release-returns"] button[type="submit"]`)
	if notice := b.Text(".notice"); !strings.Contains(notice, "1 笔") {
		t.Errorf("after the fix: %q", notice)
	}
	b.Fill(`form[action="/payout-batches"] input[name="region"]`, "420100")
	if status := b.Submit(`form[action="/payout-batches"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("the next batch answered %d: %q", status, b.Texts(".alert"))
	}
	if got := b.Attrs(`table.items tr[data-claim="`+returned[0]+`"]`, "data-status"); len(got) != 1 || got[0] != "included" {
		t.Errorf("the returned claim %s is not in the next batch: %v", returned[0], got)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
