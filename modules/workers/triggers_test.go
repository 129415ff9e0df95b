package workers_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"tuoyu/modules/pg"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

// The region and ban flag of a worker and its organisation keys are kept by
// statement-level triggers (migration workers_statement_triggers,
// bans_flag_by_statement). These tests write workers by every path — a
// form's Store.Insert, the roster's Bulk, the scale seed's CopyNew, raw SQL
// that gets the region or the flag wrong — and check the rule holds after
// each.

// newPerson returns a worker record for a fresh ID number in area.
func newPerson(t *testing.T, area, name string) workers.Worker {
	t.Helper()
	c := workerstest.Cipher(t)
	id := workerstest.IDNumber(area)
	v, err := workers.ValidateID(id, testNow)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encrypt(id)
	if err != nil {
		t.Fatal(err)
	}
	return workers.Worker{Name: name, IDNumberEnc: enc, IDNumberIdx: c.Index(pii.KindIDNumber, id), IDMask: pii.MaskID(id),
		Sex: v.Sex, BirthDate: v.Birth, IDAreaCode: v.Area, Occupations: []string{}}
}

// stored reads back what the triggers decided for the worker with idx.
func stored(t *testing.T, db bun.IDB, idx []byte) (region string, banned bool) {
	t.Helper()
	err := db.NewRaw("SELECT coalesce(region_code, ''), banned FROM workers WHERE id_number_idx = ?", idx).
		Scan(context.Background(), &region, &banned)
	if err != nil {
		t.Fatal(err)
	}
	return region, banned
}

// ban records an active ban on the ID number of p.
func (w *world) ban(t *testing.T, p workers.Worker) {
	t.Helper()
	_, err := w.db.ExecContext(context.Background(), `INSERT INTO bans (id_number_enc, id_number_idx, id_mask, name, reason,
		decision_no, decided_on, region_code, recorded_by) VALUES (?, ?, ?, ?, '虐童', '鄂卫禁〔2026〕1号', '2026-05-01', '420100', ?)`,
		p.IDNumberEnc, p.IDNumberIdx, p.IDMask, p.Name, w.admin.UserID)
	if err != nil {
		t.Fatal(err)
	}
}

// institution adds a childcare institution in region and returns its id.
func (w *world) institution(t *testing.T, region string) int64 {
	t.Helper()
	org := workerstest.Org(t, w.db, "institution", region)
	var id int64
	err := w.db.NewRaw(`INSERT INTO institutions (uscc, name, kind, region_code, places, organisation_id)
		VALUES ('91420100MA4K' || lpad(?::text, 6, '0'), '托育园' || ?::text, 'for_profit', ?, 30, ?) RETURNING id`,
		org, org, region, org).Scan(context.Background(), &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRegionAndBanFlagOnInsertByEveryWriter(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	inst := w.institution(t, "420506")

	// A form: one row, no region given; the row trigger derives it and
	// the statement trigger flags the banned person.
	form := newPerson(t, "420106", "表单甲")
	formBanned := newPerson(t, "420106", "表单乙")
	w.ban(t, formBanned)
	for _, p := range []*workers.Worker{&form, &formBanned} {
		if err := workers.NewStore(w.db).Insert(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if form.RegionCode != "420106" || form.Banned || formBanned.RegionCode != "420106" || !formBanned.Banned {
		t.Errorf("Insert read back region/banned %q/%v and %q/%v, want 420106/false and 420106/true",
			form.RegionCode, form.Banned, formBanned.RegionCode, formBanned.Banned)
	}

	// A roster: the college's region, written by the bulk insert.
	rosterBanned := bulkRow(t, "花名册乙", workerstest.IDNumber("420503"), "", w.collegeA.OrgID)
	w.ban(t, workers.Worker{Name: "花名册乙", IDNumberEnc: rosterBanned.IDNumberEnc, IDNumberIdx: rosterBanned.IDNumberIdx, IDMask: rosterBanned.IDMask})
	roster := bulkRow(t, "花名册甲", workerstest.IDNumber("420503"), "13900000001", w.collegeA.OrgID)
	if res := w.bulk(t, roster, rosterBanned); res.Inserted != 2 {
		t.Fatalf("bulk inserted %d, want 2", res.Inserted)
	}
	for _, c := range []struct {
		idx    []byte
		banned bool
	}{{roster.IDNumberIdx, false}, {rosterBanned.IDNumberIdx, true}} {
		if region, banned := stored(t, w.db, c.idx); region != "420100" || banned != c.banned {
			t.Errorf("bulk row: region %q banned %v, want 420100 (college) and %v", region, banned, c.banned)
		}
	}

	// The scale seed's COPY: employer before college before the ID's area
	// code, none outside Hubei; the ban flag too.
	employed := newPerson(t, "420106", "复制甲")
	employed.EmployerInstitutionID, employed.CollegeOrgID = inst, w.collegeA.OrgID
	graduate := newPerson(t, "420106", "复制乙")
	graduate.CollegeOrgID = w.collegeB.OrgID
	local := newPerson(t, "420602", "复制丙")
	outside := newPerson(t, "110101", "复制丁")
	copiedBanned := newPerson(t, "420602", "复制戊")
	w.ban(t, copiedBanned)
	conn, err := w.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := workers.CopyNew(ctx, conn, []workers.Worker{employed, graduate, local, outside, copiedBanned}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p      workers.Worker
		region string
		banned bool
	}{{employed, "420506", false}, {graduate, "420500", false}, {local, "420602", false}, {outside, "", false}, {copiedBanned, "420602", true}} {
		if region, banned := stored(t, w.db, c.p.IDNumberIdx); region != c.region || banned != c.banned {
			t.Errorf("%s copied: region %q banned %v, want %q %v", c.p.Name, region, banned, c.region, c.banned)
		}
	}

	// A writer that gets both wrong is corrected by the statement triggers,
	// in a statement of several rows.
	wrong, wrongBanned := newPerson(t, "420106", "错误甲"), newPerson(t, "420106", "错误乙")
	w.ban(t, wrongBanned)
	_, err = w.db.ExecContext(ctx, `INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date,
		id_area_code, college_org_id, region_code, banned) VALUES (?, ?, ?, ?, ?, ?, '420106', ?, '110000', true),
		(?, ?, ?, ?, ?, ?, '420106', NULL, '420500', false)`,
		wrong.Name, wrong.IDNumberEnc, wrong.IDNumberIdx, wrong.IDMask, wrong.Sex, wrong.BirthDate, w.collegeB.OrgID,
		wrongBanned.Name, wrongBanned.IDNumberEnc, wrongBanned.IDNumberIdx, wrongBanned.IDMask, wrongBanned.Sex, wrongBanned.BirthDate)
	if err != nil {
		t.Fatal(err)
	}
	if region, banned := stored(t, w.db, wrong.IDNumberIdx); region != "420500" || banned {
		t.Errorf("wrong region and flag written: stored %q %v, want 420500 (college) false", region, banned)
	}
	if region, banned := stored(t, w.db, wrongBanned.IDNumberIdx); region != "420106" || !banned {
		t.Errorf("wrong region and flag of a banned person: stored %q %v, want 420106 true", region, banned)
	}
}

func TestRegionFollowsUpdates(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := newPerson(t, "420106", "更新甲")
	if err := workers.NewStore(w.db).Insert(ctx, &p); err != nil {
		t.Fatal(err)
	}
	inst := w.institution(t, "420506")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := w.db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	want := func(step, region string) {
		t.Helper()
		if got, _ := stored(t, w.db, p.IDNumberIdx); got != region {
			t.Errorf("%s: region %q, want %q", step, got, region)
		}
	}
	exec("UPDATE workers SET college_org_id = ? WHERE id = ?", w.collegeB.OrgID, p.ID)
	want("a college", "420500")
	exec("UPDATE workers SET employer_institution_id = ? WHERE id = ?", inst, p.ID)
	want("an employer", "420506")
	exec("UPDATE workers SET region_code = '110000' WHERE id = ?", p.ID)
	want("a region written by hand", "420506")
	exec("UPDATE institutions SET region_code = '420602' WHERE id = ?", inst)
	want("the employer moved", "420602")
	exec("UPDATE workers SET employer_institution_id = NULL, college_org_id = NULL WHERE id = ?", p.ID)
	want("neither", "420106")
}

func TestOrganisationKeysHoldWithoutForeignKeys(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wantViolation := func(step, constraint string, err error) {
		t.Helper()
		if code, c := pg.Violation(err); code != pg.ForeignKeyViolation || c != constraint {
			t.Errorf("%s: error %v (code %q, constraint %q), want %s on %s", step, err, code, c, pg.ForeignKeyViolation, constraint)
		}
	}
	p := newPerson(t, "420106", "键甲")
	_, err := w.db.ExecContext(ctx, `INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date,
		id_area_code, college_org_id) VALUES (?, ?, ?, ?, ?, ?, '420106', 987654321)`,
		p.Name, p.IDNumberEnc, p.IDNumberIdx, p.IDMask, p.Sex, p.BirthDate)
	wantViolation("insert naming no college", "workers_college_org_id_fkey", err)

	r := bulkRow(t, "键乙", workerstest.IDNumber("420106"), "", w.collegeA.OrgID)
	w.bulk(t, r)
	_, err = w.db.ExecContext(ctx, "UPDATE workers SET registered_by_org_id = 987654321 WHERE id_number_idx = ?", r.IDNumberIdx)
	wantViolation("update naming no organisation", "workers_registered_by_org_id_fkey", err)
	_, err = w.db.ExecContext(ctx, "DELETE FROM organisations WHERE id = ?", w.collegeA.OrgID)
	wantViolation("deleting a college with graduates", "workers_college_org_id_fkey", err)

	inst := w.institution(t, "420506")
	_, err = w.db.ExecContext(ctx, "UPDATE workers SET employer_institution_id = 987654321 WHERE id_number_idx = ?", r.IDNumberIdx)
	wantViolation("update naming no institution", "workers_employer_institution_id_fkey", err)
	if _, err := w.db.ExecContext(ctx, "UPDATE workers SET employer_institution_id = ? WHERE id_number_idx = ?", inst, r.IDNumberIdx); err != nil {
		t.Fatal(err)
	}
	_, err = w.db.ExecContext(ctx, "DELETE FROM institutions WHERE id = ?", inst)
	wantViolation("deleting an employer", "workers_employer_institution_id_fkey", err)

	// An organisation no worker names can still go.
	spare := workerstest.Org(t, w.db, "college", "420100")
	if _, err := w.db.ExecContext(ctx, "DELETE FROM organisations WHERE id = ?", spare); err != nil {
		t.Errorf("deleting an organisation no worker names: %v", err)
	}
}
