package enrolment_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/attendance/attendancetest"
	"tuoyu/modules/workers"
)

// inScope reports whether provider p sees worker x through the workers
// module's scope, the one that decides reading and editing the record.
func (w *world) inScope(p *accounts.Principal, x attendancetest.Worker) bool {
	w.T.Helper()
	_, err := workers.NewStore(w.DB).ByID(context.Background(), p, x.ID)
	if err != nil && !apperr.Is(err, "worker_not_found") {
		w.T.Fatal(err)
	}
	return err == nil
}

func (w *world) enrolments(x attendancetest.Worker) int {
	w.T.Helper()
	var n int
	w.Must(w.DB.NewRaw("SELECT count(*) FROM enrolments WHERE worker_id = ?", x.ID).Scan(context.Background(), &n))
	return n
}

// A provider cannot pull a worker it has never met into its scope by
// guessing their ID; knowing the full ID number is the proof it has them in
// front of it, and the scope lasts only while the worker holds a place.
func TestProviderEnrolsOnlyWorkersItKnows(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "BYS-GQ", "420106", "2027-02-01", 10, 5)
	stranger := w.Worker()

	_, err := w.Svc.Enrol(ctx, w.ProviderA, c.ID, stranger.ID)
	if e, ok := apperr.As(err); !ok || e.Code != "worker_not_found" || e.Kind != apperr.KindNotFound {
		t.Fatalf("enrol a stranger by ID: %v, want worker_not_found", err)
	}
	// The same answer as for an ID nobody has.
	_, err = w.Svc.Enrol(ctx, w.ProviderA, c.ID, 987654321)
	if !apperr.Is(err, "worker_not_found") {
		t.Errorf("enrol an unknown ID: %v", err)
	}
	if n := w.enrolments(stranger); n != 0 || w.inScope(w.ProviderA, stranger) {
		t.Fatalf("after the refusal: %d enrolments, in scope %v", n, w.inScope(w.ProviderA, stranger))
	}

	// By the full ID number (with spaces around it, as people type).
	e, err := w.Svc.EnrolByIDNumber(ctx, w.ProviderA, c.ID, " "+stranger.IDNumber+" ")
	w.Must(err)
	if e.WorkerID != stranger.ID || e.Status != "enrolled" || e.Source != "provider" {
		t.Fatalf("enrolled by ID number: %+v", e)
	}
	if !w.inScope(w.ProviderA, stranger) || w.inScope(w.ProviderB, stranger) {
		t.Errorf("scope after enrolment: A %v, B %v; want A only", w.inScope(w.ProviderA, stranger), w.inScope(w.ProviderB, stranger))
	}
	// Now in scope, the worker can be named by ID, e.g. for another class.
	later := w.Class(w.ProviderA, "BYS-5", "420106", "2027-05-01", 3, 5)
	if _, err := w.Svc.Enrol(ctx, w.ProviderA, later.ID, stranger.ID); err != nil {
		t.Errorf("enrol a worker in scope by ID: %v", err)
	}

	// After withdrawing from both classes the worker leaves the scope.
	for _, cl := range []int64{c.ID, later.ID} {
		var id int64
		w.Must(w.DB.NewRaw("SELECT id FROM enrolments WHERE class_id = ? AND worker_id = ?", cl, stranger.ID).Scan(ctx, &id))
		_, err := w.Svc.Withdraw(ctx, stranger.P, id)
		w.Must(err)
	}
	if w.inScope(w.ProviderA, stranger) {
		t.Error("a worker who withdrew is still in the provider's scope")
	}
	if _, err := w.Svc.Enrol(ctx, w.ProviderA, c.ID, stranger.ID); !apperr.Is(err, "worker_not_found") {
		t.Errorf("re-enrol by ID after withdrawal: %v, want worker_not_found", err)
	}

	// A cancelled class ends the scope too; a waiting place keeps it.
	full := w.Class(w.ProviderA, "BYS-ZG", "420106", "2027-08-01", 3, 1)
	y, z := w.Worker(), w.Worker()
	_, err = w.Svc.EnrolByIDNumber(ctx, w.ProviderA, full.ID, y.IDNumber)
	w.Must(err)
	waiting, err := w.Svc.EnrolByIDNumber(ctx, w.ProviderA, full.ID, z.IDNumber)
	w.Must(err)
	if waiting.Status != "waitlisted" || !w.inScope(w.ProviderA, z) {
		t.Errorf("a waiting worker: status %s, in scope %v", waiting.Status, w.inScope(w.ProviderA, z))
	}
	_, err = w.Svc.Cancel(ctx, w.ProviderA, full.ID, "场地不可用")
	w.Must(err)
	if w.inScope(w.ProviderA, y) || w.inScope(w.ProviderA, z) {
		t.Error("workers of a cancelled class are still in the provider's scope")
	}
	// Registering a worker keeps them in scope whatever their enrolments.
	if !w.inScope(w.ProviderA, w.RegisteredBy(w.ProviderA, y)) {
		t.Error("a worker the provider registered is not in its scope")
	}
}

func TestEnrolByIDNumberRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "BYS-GQ", "420106", "2027-02-01", 10, 5)
	x := w.Worker()

	wrong := x.IDNumber[:17] + "0"
	if x.IDNumber[17] == '0' {
		wrong = x.IDNumber[:17] + "1"
	}
	_, err := w.Svc.EnrolByIDNumber(ctx, w.ProviderA, c.ID, wrong)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "id_number" {
		t.Errorf("a wrong check digit: %v, want invalid on id_number", err)
	}
	unknown := workers.GenerateID(rand.New(rand.NewPCG(99, 99)), "420106", time.Date(1991, 3, 3, 0, 0, 0, 0, time.UTC), workers.SexFemale)
	if _, err := w.Svc.EnrolByIDNumber(ctx, w.ProviderA, c.ID, unknown); !apperr.Is(err, "worker_not_found") || apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("a valid number nobody has: %v, want worker_not_found", err)
	}
	if _, err := w.Svc.EnrolByIDNumber(ctx, w.ProviderB, c.ID, x.IDNumber); !apperr.Is(err, "class_not_found") {
		t.Errorf("another provider's class: %v, want class_not_found", err)
	}
	if _, err := w.Svc.EnrolByIDNumber(ctx, x.P, c.ID, x.IDNumber); apperr.KindOf(err) != apperr.KindForbidden {
		t.Errorf("a worker using the provider's way: %v, want forbidden", err)
	}
	banned := w.Worker()
	w.ban(banned.ID)
	// A banned person: the provider learns only that the person cannot be
	// registered (the words a college gets for a roster row), never the
	// word ban; the attempt is audited with the provider as actor.
	_, err = w.Svc.EnrolByIDNumber(ctx, w.ProviderA, c.ID, banned.IDNumber)
	if e, ok := apperr.As(err); !ok || e.Code != "not_registrable" || e.Message != "该人员无法登记，请联系属地卫健部门" ||
		strings.Contains(e.Message, "禁") || len(e.Fields) != 1 || e.Fields[0].Field != "id_number" {
		t.Errorf("a banned person: %v, want not_registrable", err)
	}
	var audited []struct {
		ActorUserID int64 `bun:"actor_user_id"`
		ActorOrgID  int64 `bun:"actor_org_id"`
	}
	w.Must(w.DB.NewRaw("SELECT actor_user_id, actor_org_id FROM audit_events WHERE action = 'enrolments.not_registrable' AND target_id = ? AND summary::jsonb->>'worker_id' = ?",
		strconv.FormatInt(c.ID, 10), strconv.FormatInt(banned.ID, 10)).Scan(ctx, &audited))
	if len(audited) != 1 || audited[0].ActorUserID != w.ProviderA.UserID || audited[0].ActorOrgID != w.ProviderA.OrgID {
		t.Errorf("the refusal is not audited with the provider as actor: %+v", audited)
	}
	if n := w.enrolments(x) + w.enrolments(banned); n != 0 {
		t.Errorf("%d enrolments stored by refusals", n)
	}

	// already_enrolled says where the worker stands in enrolment_status,
	// leaving "status" to the problem document's HTTP status.
	_, err = w.Svc.EnrolByIDNumber(ctx, w.ProviderA, c.ID, x.IDNumber)
	w.Must(err)
	_, err = w.Svc.EnrolByIDNumber(ctx, w.ProviderA, c.ID, x.IDNumber)
	e, ok := apperr.As(err)
	if !ok || e.Code != "already_enrolled" || e.Extra["enrolment_status"] != "enrolled" {
		t.Fatalf("twice: %v %v", err, e)
	}
	if _, clash := e.Extra["status"]; clash {
		t.Errorf("already_enrolled sets the reserved member status: %v", e.Extra)
	}
}
