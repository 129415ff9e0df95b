package workers_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

// bulkRow is a bulk row for id from college, with phone ("" for none).
func bulkRow(t *testing.T, name, id, phone string, college int64) workers.BulkRow {
	t.Helper()
	c := workerstest.Cipher(t)
	v, err := workers.ValidateID(id, testNow)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encrypt(id)
	if err != nil {
		t.Fatal(err)
	}
	r := workers.BulkRow{Name: name, IDNumberEnc: enc, IDNumberIdx: c.Index(pii.KindIDNumber, id), IDMask: pii.MaskID(id),
		Sex: v.Sex, BirthDate: v.Birth, IDAreaCode: v.Area, Major: "婴幼儿托育", GraduationYear: 2026, CollegeOrgID: college}
	if phone != "" {
		if r.PhoneEnc, err = c.Encrypt(phone); err != nil {
			t.Fatal(err)
		}
		r.PhoneIdx, r.PhoneMask = c.Index(pii.KindPhone, phone), pii.MaskPhone(phone)
	}
	return r
}

func (w *world) bulk(t *testing.T, rows ...workers.BulkRow) workers.BulkResult {
	t.Helper()
	ctx := context.Background()
	conn, err := w.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var res workers.BulkResult
	err = conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err = workers.BulkUpsert(ctx, conn, tx, rows, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestBulkLeavesOtherCollegeAndPhone: a bulk write never changes another
// college's graduate, claims a worker with no college, and fills a phone
// only where none is stored.
func TestBulkLeavesOtherCollegeAndPhone(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ids := []string{workerstest.IDNumber("420106"), workerstest.IDNumber("420106"), workerstest.IDNumber("420106")}
	theirs := w.register(t, w.collegeA, workers.RegisterInput{Name: "甲院学员", IDNumber: ids[0], Phone: "13811112222"})
	withPhone := w.register(t, w.provider, workers.RegisterInput{Name: "机构学员", IDNumber: ids[1], Phone: "13833334444"})
	noPhone := w.register(t, w.provider, workers.RegisterInput{Name: "无号学员", IDNumber: ids[2]})

	res := w.bulk(t,
		bulkRow(t, "冒名", ids[0], "13700000000", w.collegeB.OrgID),
		bulkRow(t, "机构学员", ids[1], "13955556666", w.collegeB.OrgID),
		bulkRow(t, "无号学员", ids[2], "13977778888", w.collegeB.OrgID))
	if res != (workers.BulkResult{Updated: 2, Unchanged: 1}) {
		t.Errorf("bulk result %+v, want 2 updated and A's graduate untouched", res)
	}
	got := func(id int64) workers.Worker {
		var wk workers.Worker
		if err := w.db.NewSelect().Model(&wk).Where("id = ?", id).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		return wk
	}
	if g := got(theirs.ID); g.Name != "甲院学员" || g.CollegeOrgID != w.collegeA.OrgID || g.PhoneMask != "138****2222" || g.Major != "" {
		t.Errorf("college A's graduate changed: %s college %d phone %s major %q", g.Name, g.CollegeOrgID, g.PhoneMask, g.Major)
	}
	if g := got(withPhone.ID); g.CollegeOrgID != w.collegeB.OrgID || g.Major != "婴幼儿托育" || g.GraduationYear != 2026 ||
		g.PhoneMask != "138****4444" {
		t.Errorf("claimed worker: college %d major %q year %d phone %s, want claimed with the stored phone kept",
			g.CollegeOrgID, g.Major, g.GraduationYear, g.PhoneMask)
	}
	if g := got(noPhone.ID); g.PhoneMask != "139****8888" || g.PhoneIdx == nil {
		t.Errorf("worker without a phone: %s, want the bulk row's phone", g.PhoneMask)
	}
}
