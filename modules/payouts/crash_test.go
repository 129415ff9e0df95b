package payouts

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
)

// The crash test kills (SIGKILL, as kill -9) a real process that is marking
// a batch paid, at chosen moments inside the transaction and at random ones,
// and checks that the batch and its claims are all paid or all not.

const crashChildEnv = "TUOYU_PAYOUTS_CRASH_CHILD"

// crashChild runs in the child process: it marks one batch paid on the
// parent's database. In a hold mode it announces on stdout when the named
// statement of the transaction has run, then waits to be killed.
func crashChild() int {
	var dbName, mode, region string
	var batchID, userID int64
	if _, err := fmt.Sscanf(os.Getenv(crashChildEnv), "%s %d %d %s %s", &dbName, &batchID, &userID, &region, &mode); err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	db, closeDB, err := dbtest.Existing(dbName)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	defer closeDB()
	switch mode {
	case "after-batch":
		db.AddQueryHook(holdAfter{`UPDATE "payout_batches"`})
	case "after-claims":
		db.AddQueryHook(holdAfter{`UPDATE "claims"`})
	}
	cipher, err := pii.New(bytes.Repeat([]byte{0x42}, pii.KeySize))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	svc := NewService(db, workers.NewService(db, cipher, time.Now), Sources{}, time.Now, shanghai)
	p := &accounts.Principal{UserID: userID, Role: accounts.RoleHRApprover, Region: region}
	fmt.Println("START")
	if _, err := svc.MarkPaid(context.Background(), p, batchID, PaidInput{PaidOn: time.Now().In(shanghai).Format(time.DateOnly), BankReference: "CRASH"}); err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	fmt.Println("DONE")
	return 0
}

// holdAfter stops the process after a statement starting with prefix has
// run, inside its transaction, until it is killed.
type holdAfter struct{ prefix string }

func (h holdAfter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h holdAfter) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	if strings.HasPrefix(ev.Query, h.prefix) {
		fmt.Println("HOLD")
		time.Sleep(time.Minute)
	}
}

// crashBatch builds an exported batch of n claims and returns it with its
// claim ids.
func crashBatch(t *testing.T, e *env, n int) (*Batch, []int64) {
	t.Helper()
	var ids []int64
	for i := 0; i < n; i++ {
		ids = append(ids, e.payable(e.worker("崩溃测试", true).ID, 100))
	}
	b, err := e.svc.CreateBatch(context.Background(), e.approver, e.region)
	if err != nil {
		t.Fatal(err)
	}
	_, b = e.exportRows(b.ID)
	return b, ids
}

// runChild starts the child on batch b in mode and returns it with a
// channel of its stdout lines.
func runChild(t *testing.T, e *env, b *Batch, mode string) (*exec.Cmd, <-chan string) {
	t.Helper()
	var dbName string
	if err := e.db.NewRaw("SELECT current_database()").Scan(context.Background(), &dbName); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d %s %s", crashChildEnv, dbName, b.ID, e.approver.UserID, e.region, mode))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("child stderr: %s", stderr.String())
		}
	})
	return cmd, lines
}

func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("child ended before %s", want)
			}
			if l == want {
				return
			}
		case <-timeout:
			t.Fatalf("child never said %s", want)
		}
	}
}

// paidState reads, independently of the service, whether the batch is paid
// and how many of its claims are paid and batched.
func paidState(t *testing.T, e *env, b *Batch, ids []int64) (batchPaid bool, paid, batched int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var status string
	if err := e.db.NewRaw("SELECT status FROM payout_batches WHERE id = ?", b.ID).Scan(ctx, &status); err != nil {
		t.Fatal(err)
	}
	st, err := claimsStatuses(ctx, e, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		switch s {
		case "paid":
			paid++
		case "batched":
			batched++
		}
	}
	return status == "paid", paid, batched
}

func claimsStatuses(ctx context.Context, e *env, ids []int64) (map[int64]string, error) {
	var rows []struct {
		ID     int64
		Status string
	}
	err := e.db.NewRaw("SELECT id, status FROM claims WHERE id IN (?)", bun.In(ids)).Scan(ctx, &rows)
	out := map[int64]string{}
	for _, r := range rows {
		out[r.ID] = r.Status
	}
	return out, err
}

func TestCrashWhileMarkingPaidLeavesAllOrNone(t *testing.T) {
	e := newEnv(t)
	const n = 120
	for _, mode := range []string{"after-batch", "after-claims"} {
		b, ids := crashBatch(t, e, n)
		cmd, lines := runChild(t, e, b, mode)
		waitLine(t, lines, "HOLD")
		// The batch row and (in after-claims) every claim are updated in
		// the open transaction: kill -9 now.
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		if paid, nPaid, nBatched := paidState(t, e, b, ids); paid || nPaid != 0 || nBatched != n {
			t.Fatalf("%s: killed mid-transaction left batch paid=%v, %d claims paid, %d batched", mode, paid, nPaid, nBatched)
		}
		// The batch is still payable, once, after the crash.
		if _, err := e.paid(b.ID); err != nil {
			t.Fatalf("%s: paying after the crash: %v", mode, err)
		}
		if paid, nPaid, _ := paidState(t, e, b, ids); !paid || nPaid != n {
			t.Fatalf("%s: after paying again: batch paid=%v, %d claims paid", mode, paid, nPaid)
		}
	}

	// Kills at random moments: whatever the moment, all or none.
	for round := 0; round < 3; round++ {
		b, ids := crashBatch(t, e, n)
		cmd, lines := runChild(t, e, b, "run")
		waitLine(t, lines, "START")
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		paid, nPaid, nBatched := paidState(t, e, b, ids)
		if !(paid && nPaid == n) && !(!paid && nPaid == 0 && nBatched == n) {
			t.Fatalf("round %d: batch paid=%v with %d of %d claims paid, %d batched", round, paid, nPaid, n, nBatched)
		}
	}

	// Left alone, the child pays the batch.
	b, ids := crashBatch(t, e, 20)
	cmd, lines := runChild(t, e, b, "run")
	waitLine(t, lines, "DONE")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if paid, nPaid, _ := paidState(t, e, b, ids); !paid || nPaid != 20 {
		t.Fatalf("child run: batch paid=%v, %d claims paid", paid, nPaid)
	}
}
