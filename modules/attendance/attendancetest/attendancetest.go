// Package attendancetest is the world the tests of enrolment and attendance
// run in: the classes, enrolment and attendance services wired as the app
// wires them under a fixed clock, two providers (武汉 and 宜昌), an admin,
// and helpers that make workers and classes. It lives in attendance, the
// highest module it wires. Rows of lower modules (organisations, users,
// workers) are written through their owners' stores, as the module rules
// ask; everything else goes through the services.
package attendancetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/attendance"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/orgs"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
)

var shanghai = time.FixedZone("CST", 8*3600)

// now is the fixed clock of the tests: 1 December 2026, 10:00 in Hubei.
var now = time.Date(2026, 12, 1, 10, 0, 0, 0, shanghai)

var seq atomic.Int64

// World is what a test needs: the services, two providers in 武汉 and 宜昌,
// an admin, and helpers to make workers and classes.
type World struct {
	T         testing.TB
	DB        *bun.DB
	Cipher    *pii.Cipher
	Catalog   *catalog.Service
	Svc       *Services
	ProviderA *accounts.Principal // 武汉
	ProviderB *accounts.Principal // 宜昌
	Admin     *accounts.Principal
}

// NewWorld returns a world on db, a migrated test database, with the
// catalog seeded and the clock at 1 December 2026.
func NewWorld(t testing.TB, db *bun.DB) *World {
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
	w := &World{T: t, DB: db, Cipher: cipher, Catalog: cat}
	w.Svc = NewServices(db, cat, cipher, func() time.Time { return now })
	w.ProviderA = w.Staff(accounts.RoleProvider, "provider", "420100")
	w.ProviderB = w.Staff(accounts.RoleProvider, "provider", "420500")
	w.Admin = w.Staff(accounts.RoleAdmin, "admin", "420000")
	return w
}

// At returns the services with the clock set to 10:00 on day (YYYY-MM-DD)
// in Hubei.
func (w *World) At(day string) *Services {
	d, err := time.ParseInLocation(time.DateOnly, day, shanghai)
	if err != nil {
		w.T.Fatal(err)
	}
	return NewServices(w.DB, w.Catalog, w.Cipher, func() time.Time { return d.Add(10 * time.Hour) })
}

// Staff makes an organisation of kind in region with one user of role and
// returns that user as a principal.
func (w *World) Staff(role accounts.Role, kind, region string) *accounts.Principal {
	w.T.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	o := orgs.Organisation{Code: fmt.Sprintf("%s-%d", kind, n), Name: fmt.Sprintf("测试%s%d", kind, n),
		Kind: kind, RegionCode: region, Active: true}
	if err := orgs.NewStore(w.DB).Insert(ctx, &o); err != nil {
		w.T.Fatal(err)
	}
	u := accounts.User{Username: fmt.Sprintf("%s%d", role, n), Role: role, OrganisationID: o.ID, PasswordHash: "x", Active: true}
	if err := accounts.NewStore(w.DB).InsertUser(ctx, &u); err != nil {
		w.T.Fatal(err)
	}
	return &accounts.Principal{UserID: u.ID, Username: u.Username, Role: role, OrgID: o.ID, OrgKind: kind, Region: region}
}

// Worker is a test worker with a login.
type Worker struct {
	ID       int64
	IDNumber string
	P        *accounts.Principal
}

// Worker makes a worker born in 武汉 with a valid ID number and a login.
func (w *World) Worker() Worker {
	w.T.Helper()
	ctx := context.Background()
	n := seq.Add(1)
	birth := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n))
	id := workers.GenerateID(rand.New(rand.NewPCG(uint64(n), 7)), "420106", birth, workers.SexFemale)
	enc, err := w.Cipher.Encrypt(id)
	if err != nil {
		w.T.Fatal(err)
	}
	x := workers.Worker{Name: fmt.Sprintf("学员%d", n), IDNumberEnc: enc, IDNumberIdx: w.Cipher.Index(pii.KindIDNumber, id),
		IDMask: pii.MaskID(id), Sex: workers.SexFemale, BirthDate: birth, IDAreaCode: "420106", Occupations: []string{}}
	if err := workers.NewStore(w.DB).Insert(ctx, &x); err != nil {
		w.T.Fatal(err)
	}
	u := accounts.User{Username: fmt.Sprintf("worker%d", n), Role: accounts.RoleWorker, WorkerID: x.ID, PasswordHash: "x", Active: true}
	if err := accounts.NewStore(w.DB).InsertUser(ctx, &u); err != nil {
		w.T.Fatal(err)
	}
	return Worker{ID: x.ID, IDNumber: id, P: &accounts.Principal{UserID: u.ID, Role: accounts.RoleWorker, WorkerID: x.ID}}
}

// RegisteredBy records that provider p registered worker x, which puts x in
// p's scope: a provider may enrol by worker ID only workers in its scope.
func (w *World) RegisteredBy(p *accounts.Principal, x Worker) Worker {
	w.T.Helper()
	ctx := context.Background()
	st := workers.NewStore(w.DB)
	if err := st.Update(ctx, &workers.Worker{ID: x.ID, RegisteredByOrgID: p.OrgID}, "registered_by_org_id"); err != nil {
		w.T.Fatal(err)
	}
	// What workers.Service.Register does for a provider: the read model of
	// the provider's scope.
	if err := st.LinkRegistrar(ctx, p.OrgID, x.ID); err != nil {
		w.T.Fatal(err)
	}
	return x
}

// Start marks class c running by its provider p on its first day: only
// then are hours recorded.
func (w *World) Start(p *accounts.Principal, c classes.Class) {
	w.T.Helper()
	if _, err := w.At(c.StartsOn.Format(time.DateOnly)).Start(context.Background(), p, c.ID); err != nil {
		w.T.Fatal(err)
	}
}

// Class makes an open class of plan for provider p in region starting on
// start (YYYY-MM-DD) and lasting days days.
func (w *World) Class(p *accounts.Principal, plan, region, start string, days, capacity int) classes.Class {
	w.T.Helper()
	c := w.Draft(p, plan, region, start, days, capacity)
	c, err := w.Svc.Open(context.Background(), p, c.ID)
	if err != nil {
		w.T.Fatal(err)
	}
	return c
}

// Draft makes a class as Class does but leaves it a draft.
func (w *World) Draft(p *accounts.Principal, plan, region, start string, days, capacity int) classes.Class {
	w.T.Helper()
	s, err := time.Parse(time.DateOnly, start)
	if err != nil {
		w.T.Fatal(err)
	}
	c, err := w.Svc.CreateClass(context.Background(), p, classes.Input{
		PlanCode: plan, Name: fmt.Sprintf("%s 第%d期", plan, seq.Add(1)), StartsOn: start,
		EndsOn: s.AddDate(0, 0, days-1).Format(time.DateOnly), Capacity: capacity, Region: region, Place: "武汉市武昌区培训中心",
	})
	if err != nil {
		w.T.Fatal(err)
	}
	return c
}

// Must fails the test on a non-nil err.
func (w *World) Must(err error) {
	w.T.Helper()
	if err != nil {
		w.T.Fatal(err)
	}
}

// Services are the classes, enrolment and attendance services wired as the
// app wires them, under one clock. Its methods forward to the service that
// owns each use case, so a test reads as one list of use cases.
type Services struct {
	cls *classes.Service
	enr *enrolment.Service
	att *attendance.Service
}

// NewServices wires the services on db under the clock now.
func NewServices(db *bun.DB, cat *catalog.Service, cipher *pii.Cipher, now func() time.Time) *Services {
	cls := classes.NewService(db, cat, enrolment.Membership, now, shanghai)
	enr := enrolment.NewService(db, cls, cat, cipher)
	return &Services{cls: cls, enr: enr, att: attendance.NewService(db, cls, enr, cat, cipher)}
}

// Now returns the services' clock.
func (s *Services) Now() func() time.Time { return s.cls.Now() }

// CreateClass is classes.Service.Create.
func (s *Services) CreateClass(ctx context.Context, p *accounts.Principal, in classes.Input) (classes.Class, error) {
	return s.cls.Create(ctx, p, in)
}

// Class is classes.Service.Class.
func (s *Services) Class(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	return s.cls.Class(ctx, p, id)
}

// Classes is classes.Service.Classes.
func (s *Services) Classes(ctx context.Context, p *accounts.Principal, f classes.Filter) ([]classes.Class, int, error) {
	return s.cls.Classes(ctx, p, f)
}

// OpenClasses is classes.Service.OpenClasses.
func (s *Services) OpenClasses(ctx context.Context, f classes.Filter) ([]classes.Class, int, error) {
	return s.cls.OpenClasses(ctx, f)
}

// Browse is classes.Service.Browse.
func (s *Services) Browse(ctx context.Context, p *accounts.Principal, f classes.Filter) ([]classes.Class, int, bool, error) {
	return s.cls.Browse(ctx, p, f)
}

// Search is classes.Service.Search.
func (s *Services) Search(ctx context.Context, f classes.Filter) ([]classes.Class, int, bool, error) {
	return s.cls.Search(ctx, f)
}

// Open is enrolment.Service.Open.
func (s *Services) Open(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	return s.enr.Open(ctx, p, id)
}

// Start is enrolment.Service.Start.
func (s *Services) Start(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	return s.enr.Start(ctx, p, id)
}

// Finish is enrolment.Service.Finish.
func (s *Services) Finish(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	return s.enr.Finish(ctx, p, id)
}

// Cancel is enrolment.Service.Cancel.
func (s *Services) Cancel(ctx context.Context, p *accounts.Principal, id int64, reason string) (enrolment.Cancellation, error) {
	return s.enr.Cancel(ctx, p, id, reason)
}

// Advance is enrolment.Service.Advance.
func (s *Services) Advance(ctx context.Context) ([]int64, []int64, error) { return s.enr.Advance(ctx) }

// Enrol is enrolment.Service.Enrol.
func (s *Services) Enrol(ctx context.Context, p *accounts.Principal, classID, workerID int64) (enrolment.Enrolment, error) {
	return s.enr.Enrol(ctx, p, classID, workerID)
}

// EnrolByIDNumber is enrolment.Service.EnrolByIDNumber.
func (s *Services) EnrolByIDNumber(ctx context.Context, p *accounts.Principal, classID int64, id string) (enrolment.Enrolment, error) {
	return s.enr.EnrolByIDNumber(ctx, p, classID, id)
}

// Withdraw is enrolment.Service.Withdraw.
func (s *Services) Withdraw(ctx context.Context, p *accounts.Principal, id int64) (enrolment.Enrolment, error) {
	return s.enr.Withdraw(ctx, p, id)
}

// EnrolFromRoster is enrolment.Service.EnrolFromRoster.
func (s *Services) EnrolFromRoster(ctx context.Context, idb bun.IDB, r enrolment.RosterRequest) (string, error) {
	return s.enr.EnrolFromRoster(ctx, idb, r)
}

// ClassRoster is attendance.Service.Roster.
func (s *Services) ClassRoster(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, []attendance.Enrolment, error) {
	return s.att.Roster(ctx, p, id)
}

// MyEnrolments is attendance.Service.Mine.
func (s *Services) MyEnrolments(ctx context.Context, p *accounts.Principal) ([]attendance.Enrolment, error) {
	return s.att.Mine(ctx, p)
}

// Progress is attendance.Service.Progress.
func (s *Services) Progress(ctx context.Context, p *accounts.Principal, id int64) (attendance.Enrolment, error) {
	return s.att.Progress(ctx, p, id)
}

// RecordLesson is attendance.Service.RecordLesson from the form.
func (s *Services) RecordLesson(ctx context.Context, p *accounts.Principal, id int64, in attendance.LessonInput) (attendance.LessonResult, error) {
	return s.att.RecordLesson(ctx, p, id, in, attendance.SourceForm)
}

// CorrectLesson is attendance.Service.CorrectLesson.
func (s *Services) CorrectLesson(ctx context.Context, p *accounts.Principal, id int64, in attendance.Correction) (attendance.LessonResult, error) {
	return s.att.CorrectLesson(ctx, p, id, in)
}

// ReadSheet is attendance.Service.ReadSheet.
func (s *Services) ReadSheet(ctx context.Context, p *accounts.Principal, id int64, data []byte, name string) ([]attendance.LessonInput, error) {
	return s.att.ReadSheet(ctx, p, id, data, name)
}

// RecordLessons is attendance.Service.RecordLessons.
func (s *Services) RecordLessons(ctx context.Context, p *accounts.Principal, id int64, ins []attendance.LessonInput) ([]attendance.LessonResult, error) {
	return s.att.RecordLessons(ctx, p, id, ins)
}

// PreviewLessons is attendance.Service.PreviewLessons.
func (s *Services) PreviewLessons(ctx context.Context, p *accounts.Principal, id int64, ins []attendance.LessonInput) ([]attendance.LessonResult, error) {
	return s.att.PreviewLessons(ctx, p, id, ins)
}

// History is attendance.Service.History.
func (s *Services) History(ctx context.Context, p *accounts.Principal, id int64) (attendance.History, error) {
	return s.att.History(ctx, p, id)
}
