package payouts

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/claims"
	"tuoyu/modules/claims/claimstest"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	os.Exit(dbtest.Run(m))
}

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// env is one test's world: a county of its own (tests share the package
// database, and a batch gathers a whole region), an approver there and the
// services.
type env struct {
	t        *testing.T
	db       *bun.DB
	ws       *workers.Service
	svc      *Service
	region   string
	approver *accounts.Principal
	admin    *accounts.Principal
	kit      *claimstest.Kit
}

// counties hands each test its own county of 武汉 or 宜昌.
var counties = []string{"420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112", "420113",
	"420114", "420115", "420116", "420117", "420502", "420503", "420504", "420505", "420506"}
var nextCounty atomic.Int32

func newEnv(t *testing.T) *env {
	t.Helper()
	db := dbtest.DB(t)
	n := int(nextCounty.Add(1)) - 1
	if n >= len(counties) {
		t.Fatal("out of test counties: add more")
	}
	region := counties[n]
	ws := workers.NewService(db, workerstest.Cipher(t), time.Now)
	e := &env{t: t, db: db, ws: ws, region: region,
		svc: NewService(db, ws, Sources{Claims: claims.StatsForPayouts}, time.Now, shanghai)}
	e.approver = workerstest.Staff(t, db, accounts.RoleHRApprover, workerstest.Org(t, db, "hr_bureau", region), region)
	e.admin = workerstest.Staff(t, db, accounts.RoleAdmin, workerstest.Org(t, db, "admin", "420000"), "420000")
	reviewer := workerstest.Staff(t, db, accounts.RoleHRReviewer, workerstest.Org(t, db, "hr_bureau", region), region)
	e.kit = claimstest.NewKit(t, db, e.admin, reviewer.UserID, e.approver.UserID)
	return e
}

// person is a worker of the test's county with their plain ID number and
// account (empty: none on file).
type person struct {
	ID       int64
	IDNumber string
	Account  string
}

var accountSeq atomic.Int64

func (e *env) worker(name string, withAccount bool) person {
	e.t.Helper()
	idn := workerstest.IDNumber(e.region)
	w, err := e.ws.Register(context.Background(), e.admin, workers.RegisterInput{Name: name, IDNumber: idn})
	if err != nil {
		e.t.Fatalf("register %s: %v", name, err)
	}
	p := person{ID: w.ID, IDNumber: idn}
	if withAccount {
		p.Account = e.setAccount(w.ID)
	}
	return p
}

// setAccount gives worker id a new bank account and returns it.
func (e *env) setAccount(id int64) string {
	e.t.Helper()
	acct := fmt.Sprintf("6222%015d", time.Now().UnixNano()%1e12*1000+accountSeq.Add(1)%1000)
	bank := "中国工商银行武汉分行"
	if _, err := e.ws.UpdateProfile(context.Background(), e.admin, id, workers.ProfileInput{BankAccount: &acct, BankName: &bank}); err != nil {
		e.t.Fatalf("bank account: %v", err)
	}
	return acct
}

// payable stores a payable claim of worker for amount yuan in the test's
// county, as the claims flow leaves one after 公示.
func (e *env) payable(workerID, amount int64) int64 {
	e.t.Helper()
	return e.kit.Claim(e.t, workerID, e.region, "skill_upgrade", "payable", amount, time.Now().AddDate(0, 0, -10))
}

// claimStatus reads a claim's status independently of the code under test.
func (e *env) claimStatus(id int64) string {
	e.t.Helper()
	st, err := claims.StatusesOf(context.Background(), e.db, []int64{id})
	if err != nil {
		e.t.Fatal(err)
	}
	return st[id]
}

// exportRows exports batch id and returns the sheet's rows.
func (e *env) exportRows(id int64) ([][]string, *Batch) {
	e.t.Helper()
	var buf bytes.Buffer
	b, err := e.svc.Export(context.Background(), e.approver, id, &buf)
	if err != nil {
		e.t.Fatalf("export: %v", err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(bankSheet)
	if err != nil {
		e.t.Fatal(err)
	}
	return rows, b
}

func (e *env) paid(id int64) (*Batch, error) {
	return e.svc.MarkPaid(context.Background(), e.approver, id, PaidInput{PaidOn: time.Now().In(shanghai).Format(time.DateOnly), BankReference: "HB-TEST-1"})
}

// bytesBuf is the buffer Export writes to.
type bytesBuf = bytes.Buffer
