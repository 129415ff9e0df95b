package notify_test

import (
	"context"
	"os"
	"testing"
	"time"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/notify"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func TestInbox(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	var orgID, userA, userB int64
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.NewRaw("INSERT INTO organisations (code, name, kind, region_code) VALUES ('n-org', 'x', 'provider', '420100') RETURNING id").Scan(ctx, &orgID))
	must(db.NewRaw("INSERT INTO users (username, role, organisation_id, password_hash) VALUES ('n-a', 'provider', ?, 'x') RETURNING id", orgID).Scan(ctx, &userA))
	var workerID int64
	must(db.NewRaw(`INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code)
		VALUES ('乙', '\x00', '\x02', 'm', 'female', '1990-01-01', '420106') RETURNING id`).Scan(ctx, &workerID))
	must(db.NewRaw("INSERT INTO users (username, role, worker_id, password_hash) VALUES ('n-w', 'worker', ?, 'x') RETURNING id", workerID).Scan(ctx, &userB))
	staff := &accounts.Principal{UserID: userA, Role: accounts.RoleProvider, OrgID: orgID}
	worker := &accounts.Principal{UserID: userB, Role: accounts.RoleWorker, WorkerID: workerID}

	reminder := notify.Message{WorkerID: workerID, Kind: "reminders.sitting", Title: "考核提醒", DedupeKey: "sitting:1:worker:3d"}
	must(notify.Send(ctx, db, reminder, notify.Message{UserID: userA, Kind: "rosters.done", Title: "花名册已校验", Link: "/rosters/1"}))
	must(notify.Send(ctx, db, reminder)) // sent once only

	svc := notify.NewService(db, func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) })
	ms, total, unread, _, err := svc.Inbox(ctx, worker, 20, 0, 0)
	must(err)
	if total != 1 || unread != 1 || ms[0].Title != "考核提醒" {
		t.Fatalf("worker inbox: total %d unread %d %+v", total, unread, ms)
	}
	mine, _, _, _, err := svc.Inbox(ctx, staff, 20, 0, 0)
	must(err)
	if len(mine) != 1 || mine[0].Link != "/rosters/1" {
		t.Fatalf("staff inbox %+v", mine)
	}
	// Nobody marks someone else's message.
	if err := svc.MarkRead(ctx, staff, ms[0].ID); apperr.KindOf(err) != apperr.KindNotFound {
		t.Fatalf("marking another's message: %v", err)
	}
	must(svc.MarkRead(ctx, worker, ms[0].ID))
	must(svc.MarkRead(ctx, worker, ms[0].ID)) // idempotent
	if _, _, unread, _, _ := svc.Inbox(ctx, worker, 20, 0, 0); unread != 0 {
		t.Fatalf("unread after marking: %d", unread)
	}
	// A message has exactly one recipient (database rule).
	if err := notify.Send(ctx, db, notify.Message{Kind: "x", Title: "nobody"}); err == nil {
		t.Fatal("a message without recipient was stored")
	}
}
