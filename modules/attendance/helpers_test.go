package attendance_test

import (
	"os"
	"testing"

	"tuoyu/app/dbtest"
	"tuoyu/modules/attendance/attendancetest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// newWorld returns the shared test world on this package's database.
func newWorld(t *testing.T) *attendancetest.World {
	t.Helper()
	return attendancetest.NewWorld(t, dbtest.DB(t))
}
