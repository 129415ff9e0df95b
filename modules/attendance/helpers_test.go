package attendance_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/attendance"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var shanghai = time.FixedZone("CST", 8*3600)

// testNow is the fixed clock of the tests: 1 December 2026, 10:00 in Hubei.
var testNow = time.Date(2026, 12, 1, 10, 0, 0, 0, shanghai)

var seq atomic.Int64

// world is what a test needs: the services, two providers in 武汉 and 宜昌,
// an admin, and helpers to make workers and classes.
type world struct {
	t         *testing.T
	db        *bun.DB
	cipher    *pii.Cipher
	catalog   *catalog.Service
	svc       *services
	providerA *accounts.Principal // 武汉
	providerB *accounts.Principal // 宜昌
	admin     *accounts.Principal
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldOn(t, dbtest.DB(t))
}

// newWorldOn is newWorld on database db (a fresh one, for tests of
// migrations).
func newWorldOn(t *testing.T, db *bun.DB) *world {
	t.Helper()
	ctx := context.Background()
	cipher, err := pii.New(make([]byte, pii.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.NewService(db)
	if err := cat.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, cipher: cipher, catalog: cat}
	w.svc = newServices(db, cat, cipher, func() time.Time { return testNow })
	w.providerA = w.staff(accounts.RoleProvider, "provider", "420100")
	w.providerB = w.staff(accounts.RoleProvider, "provider", "420500")
	w.admin = w.staff(accounts.RoleAdmin, "admin", "420000")
	return w
}

// at returns the services with the clock set to a date in Hubei.
func (w *world) at(day string) *services {
	d, err := time.ParseInLocation(time.DateOnly, day, shanghai)
	if err != nil {
		w.t.Fatal(err)
	}
	return newServices(w.db, w.catalog, w.cipher, func() time.Time { return d.Add(10 * time.Hour) })
}

// services are the classes, enrolment and attendance services wired as the
// app wires them, under one clock.
type services struct {
	cls *classes.Service
	enr *enrolment.Service
	att *attendance.Service
}

func newServices(db *bun.DB, cat *catalog.Service, cipher *pii.Cipher, now func() time.Time) *services {
	cls := classes.NewService(db, cat, enrolment.Membership, now, shanghai)
	enr := enrolment.NewService(db, cls, cat, cipher)
	return &services{cls: cls, enr: enr, att: attendance.NewService(db, cls, enr, cat, cipher)}
}

func (s *services) CreateClass(ctx context.Context, p *accounts.Principal, in classes.Input) (classes.Class, error) {
	return s.cls.Create(ctx, p, in)
}
func (s *services) Class(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	return s.cls.Class(ctx, p, id)
}
func (s *services) Classes(ctx context.Context, p *accounts.Principal, f classes.Filter) ([]classes.Class, int, error) {
	return s.cls.Classes(ctx, p, f)
}
func (s *services) OpenClasses(ctx context.Context, f classes.Filter) ([]classes.Class, int, error) {
	return s.cls.OpenClasses(ctx, f)
}
func (s *services) Open(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	return s.enr.Open(ctx, p, id)
}
func (s *services) Start(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	return s.enr.Start(ctx, p, id)
}
func (s *services) Finish(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	return s.enr.Finish(ctx, p, id)
}
func (s *services) Cancel(ctx context.Context, p *accounts.Principal, id int64, reason string) (enrolment.Cancellation, error) {
	return s.enr.Cancel(ctx, p, id, reason)
}
func (s *services) Advance(ctx context.Context) ([]int64, []int64, error) { return s.enr.Advance(ctx) }
func (s *services) Enrol(ctx context.Context, p *accounts.Principal, classID, workerID int64) (enrolment.Enrolment, error) {
	return s.enr.Enrol(ctx, p, classID, workerID)
}
func (s *services) EnrolByIDNumber(ctx context.Context, p *accounts.Principal, classID int64, id string) (enrolment.Enrolment, error) {
	return s.enr.EnrolByIDNumber(ctx, p, classID, id)
}
func (s *services) Withdraw(ctx context.Context, p *accounts.Principal, id int64) (enrolment.Enrolment, error) {
	return s.enr.Withdraw(ctx, p, id)
}
func (s *services) EnrolFromRoster(ctx context.Context, idb bun.IDB, r enrolment.RosterRequest) (string, error) {
	return s.enr.EnrolFromRoster(ctx, idb, r)
}
func (s *services) PlanWaitlist(ctx context.Context) ([]enrolment.PlanWaiting, error) {
	return s.enr.PlanWaitlist(ctx)
}
func (s *services) ClassRoster(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, []attendance.Enrolment, error) {
	return s.att.Roster(ctx, p, id)
}
func (s *services) MyEnrolments(ctx context.Context, p *accounts.Principal) ([]attendance.Enrolment, error) {
	return s.att.Mine(ctx, p)
}
func (s *services) Progress(ctx context.Context, p *accounts.Principal, id int64) (attendance.Enrolment, error) {
	return s.att.Progress(ctx, p, id)
}
func (s *services) RecordLesson(ctx context.Context, p *accounts.Principal, id int64, in attendance.LessonInput) (attendance.LessonResult, error) {
	return s.att.RecordLesson(ctx, p, id, in, attendance.SourceForm)
}
func (s *services) CorrectLesson(ctx context.Context, p *accounts.Principal, id int64, in attendance.Correction) (attendance.LessonResult, error) {
	return s.att.CorrectLesson(ctx, p, id, in)
}
func (s *services) ReadSheet(ctx context.Context, p *accounts.Principal, id int64, data []byte, name string) ([]attendance.LessonInput, error) {
	return s.att.ReadSheet(ctx, p, id, data, name)
}
func (s *services) RecordLessons(ctx context.Context, p *accounts.Principal, id int64, ins []attendance.LessonInput) ([]attendance.LessonResult, error) {
	return s.att.RecordLessons(ctx, p, id, ins)
}
func (s *services) PreviewLessons(ctx context.Context, p *accounts.Principal, id int64, ins []attendance.LessonInput) ([]attendance.LessonResult, error) {
	return s.att.PreviewLessons(ctx, p, id, ins)
}
func (s *services) History(ctx context.Context, p *accounts.Principal, id int64) (attendance.History, error) {
	return s.att.History(ctx, p, id)
}
func (s *services) Now() func() time.Time { return s.cls.Now() }

func (w *world) staff(role accounts.Role, kind, region string) *accounts.Principal {
	w.t.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	var orgID int64
	err := w.db.NewRaw("INSERT INTO organisations (code, name, kind, region_code) VALUES (?, ?, ?, ?) RETURNING id",
		fmt.Sprintf("%s-%d", kind, n), fmt.Sprintf("测试%s%d", kind, n), kind, region).Scan(ctx, &orgID)
	if err != nil {
		w.t.Fatal(err)
	}
	var userID int64
	err = w.db.NewRaw("INSERT INTO users (username, role, organisation_id, password_hash) VALUES (?, ?, ?, 'x') RETURNING id",
		fmt.Sprintf("%s%d", role, n), string(role), orgID).Scan(ctx, &userID)
	if err != nil {
		w.t.Fatal(err)
	}
	return &accounts.Principal{UserID: userID, Username: fmt.Sprintf("%s%d", role, n), Role: role, OrgID: orgID, OrgKind: kind, Region: region}
}

// worker is a test worker with a login.
type worker struct {
	ID       int64
	IDNumber string
	P        *accounts.Principal
}

func (w *world) worker() worker {
	w.t.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	birth := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n))
	id := workers.GenerateID(rand.New(rand.NewPCG(uint64(n), 7)), "420106", birth, workers.SexFemale)
	enc, err := w.cipher.Encrypt(id)
	if err != nil {
		w.t.Fatal(err)
	}
	var workerID int64
	err = w.db.NewRaw(`INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code)
		VALUES (?, ?, ?, ?, 'female', ?, '420106') RETURNING id`,
		fmt.Sprintf("学员%d", n), enc, w.cipher.Index(pii.KindIDNumber, id), pii.MaskID(id), birth).Scan(ctx, &workerID)
	if err != nil {
		w.t.Fatal(err)
	}
	var userID int64
	err = w.db.NewRaw("INSERT INTO users (username, role, worker_id, password_hash) VALUES (?, 'worker', ?, 'x') RETURNING id",
		fmt.Sprintf("worker%d", n), workerID).Scan(ctx, &userID)
	if err != nil {
		w.t.Fatal(err)
	}
	return worker{ID: workerID, IDNumber: id, P: &accounts.Principal{UserID: userID, Role: accounts.RoleWorker, WorkerID: workerID}}
}

// registeredBy records that provider p registered worker x, which puts x in
// p's scope: a provider may enrol by worker ID only workers in its scope.
func (w *world) registeredBy(p *accounts.Principal, x worker) worker {
	w.t.Helper()
	if _, err := w.db.NewRaw("UPDATE workers SET registered_by_org_id = ? WHERE id = ?", p.OrgID, x.ID).Exec(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	// What workers.Service.Register does for a provider: the read model of
	// the provider's scope.
	if err := workers.NewStore(w.db).LinkRegistrar(context.Background(), p.OrgID, x.ID); err != nil {
		w.t.Fatal(err)
	}
	return x
}

// start marks class c running by its provider p on its first day: only
// then are hours recorded.
func (w *world) start(p *accounts.Principal, c classes.Class) {
	w.t.Helper()
	if _, err := w.at(c.StartsOn.Format(time.DateOnly)).Start(context.Background(), p, c.ID); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) ban(workerID int64) {
	w.t.Helper()
	if _, err := w.db.NewRaw("UPDATE workers SET banned = true WHERE id = ?", workerID).Exec(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// class makes an open class of plan for provider p starting on start and
// lasting days days.
func (w *world) class(p *accounts.Principal, plan, region, start string, days, capacity int) classes.Class {
	w.t.Helper()
	c := w.draft(p, plan, region, start, days, capacity)
	c, err := w.svc.Open(context.Background(), p, c.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) draft(p *accounts.Principal, plan, region, start string, days, capacity int) classes.Class {
	w.t.Helper()
	s, err := time.Parse(time.DateOnly, start)
	if err != nil {
		w.t.Fatal(err)
	}
	c, err := w.svc.CreateClass(context.Background(), p, classes.Input{
		PlanCode: plan, Name: fmt.Sprintf("%s 第%d期", plan, seq.Add(1)), StartsOn: start,
		EndsOn: s.AddDate(0, 0, days-1).Format(time.DateOnly), Capacity: capacity, Region: region, Place: "武汉市武昌区培训中心",
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// rosterImport stores a committed roster import of a new college and returns
// its id: enrolments made by the roster feed must name a real import.
func (w *world) rosterImport() int64 {
	w.t.Helper()
	ctx := context.Background()
	college := w.staff(accounts.RoleCollege, "college", "420500")
	var id int64
	var userID int64
	err := w.db.NewRaw("INSERT INTO users (username, role, organisation_id, password_hash) VALUES (?, 'college', ?, 'x') RETURNING id",
		fmt.Sprintf("college%d", seq.Add(1)), college.OrgID).Scan(ctx, &userID)
	if err != nil {
		w.t.Fatal(err)
	}
	err = w.db.NewRaw(`INSERT INTO roster_imports (college_org_id, uploaded_by_user_id, uploaded_by_label, file_name, file_sha256, file_size, format, encoding, mode, status, committed_at)
		VALUES (?, ?, 'test', 'roster.csv', sha256('x'::bytea), 1, 'csv', 'utf-8', 'upsert', 'committed', now()) RETURNING id`, college.OrgID, userID).Scan(ctx, &id)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}
