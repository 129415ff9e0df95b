package enrolment_test

import (
	"context"
	"os"
	"testing"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/attendance/attendancetest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// world is the shared test world (attendancetest.World) on this package's
// database, with the helpers only enrolment's tests use.
type world struct{ *attendancetest.World }

func newWorld(t *testing.T) *world {
	t.Helper()
	return &world{attendancetest.NewWorld(t, dbtest.DB(t))}
}

func (w *world) ban(workerID int64) {
	w.T.Helper()
	if _, err := w.DB.NewRaw("UPDATE workers SET banned = true WHERE id = ?", workerID).Exec(context.Background()); err != nil {
		w.T.Fatal(err)
	}
}

// rosterImport stores a committed roster import of a new college and returns
// its id: enrolments made by the roster feed must name a real import.
func (w *world) rosterImport() int64 {
	w.T.Helper()
	college := w.Staff(accounts.RoleCollege, "college", "420500")
	var id int64
	err := w.DB.NewRaw(`INSERT INTO roster_imports (college_org_id, uploaded_by_user_id, uploaded_by_label, file_name, file_sha256, file_size, format, encoding, mode, status, committed_at)
		VALUES (?, ?, 'test', 'roster.csv', sha256('x'::bytea), 1, 'csv', 'utf-8', 'upsert', 'committed', now()) RETURNING id`, college.OrgID, college.UserID).Scan(context.Background(), &id)
	if err != nil {
		w.T.Fatal(err)
	}
	return id
}
