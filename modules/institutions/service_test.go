package institutions_test

import (
	"context"
	"os"
	"testing"
	"time"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/institutions"
	"tuoyu/modules/orgs"
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func uscc(first17 string) string { return first17 + string(orgs.USCCCheckChar(first17)) }

func TestValidUSCC(t *testing.T) {
	tests := map[string]bool{
		"91350100M000100Y43":      true, // the example code of GB 32100
		"91350100M000100Y42":      false,
		"91350100M000100Y4":       false,
		"9135010OM000100Y43":      false, // O is not in the alphabet
		"91A50100M000100Y43":      false, // region code must be digits
		uscc("52420500MJH123456"): true,
	}
	for code, want := range tests {
		if got := institutions.ValidUSCC(code); got != want {
			t.Errorf("ValidUSCC(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestCreateUpdateDelete(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	svc := institutions.NewService(db, time.Now)
	regWuhan := workerstest.Staff(t, db, accounts.RoleRegulator, workerstest.Org(t, db, "regulator", "420100"), "420100")
	regYichang := workerstest.Staff(t, db, accounts.RoleRegulator, workerstest.Org(t, db, "regulator", "420500"), "420500")
	hr := workerstest.Staff(t, db, accounts.RoleHRReviewer, workerstest.Org(t, db, "hr_bureau", "420100"), "420100")

	in := institutions.Input{USCC: uscc("52420106MJH00001" + "0"), Name: "武昌区示范托育园", Kind: "non_profit",
		RegionCode: "420106", Places: 80, FilingStatus: "filed", FiledOn: "2025-09-01"}
	if _, err := svc.Create(ctx, hr, in); apperr.KindOf(err) != apperr.KindForbidden {
		t.Errorf("hr create: %v, want forbidden", err)
	}
	n, err := svc.Create(ctx, regWuhan, in)
	if err != nil {
		t.Fatal(err)
	}
	if n.RegionName != "武昌区" || n.FiledOn == nil || n.FiledOn.Format(time.DateOnly) != "2025-09-01" {
		t.Errorf("created: %+v", n)
	}
	if _, err := svc.Create(ctx, regWuhan, in); !apperr.Is(err, "uscc_taken") {
		t.Errorf("duplicate USCC: %v", err)
	}
	// Out of scope: creating elsewhere is refused, editing is 404.
	other := in
	other.USCC, other.RegionCode = uscc("52420500MJH000020"), "420502"
	if _, err := svc.Create(ctx, regWuhan, other); !hasField(err, "region_code", "region_out_of_scope") {
		t.Errorf("create outside region: %v", err)
	}
	if _, err := svc.Update(ctx, regYichang, n.ID, in); !apperr.Is(err, "institution_not_found") {
		t.Errorf("update outside region: %v", err)
	}

	bad := in
	bad.USCC, bad.Places, bad.Kind, bad.FilingStatus, bad.FiledOn, bad.RevokedOn = "91350100M000100Y42", 0, "x", "revoked", "2025-09-01", "2025-01-01"
	_, err = svc.Update(ctx, regWuhan, n.ID, bad)
	for _, f := range [][2]string{{"uscc", "invalid_uscc"}, {"places", "invalid_places"}, {"kind", "invalid_kind"}, {"revoked_on", "before_filed"}} {
		if !hasField(err, f[0], f[1]) {
			t.Errorf("bad update: missing %v in %v", f, err)
		}
	}

	future := in
	future.FiledOn = time.Now().AddDate(0, 0, 2).Format(time.DateOnly)
	if _, err := svc.Update(ctx, regWuhan, n.ID, future); !hasField(err, "filed_on", "in_future") {
		t.Errorf("filing date after today: %v", err)
	}

	upd := in
	upd.FilingStatus, upd.RevokedOn, upd.Places = "revoked", "2026-03-01", 60
	got, err := svc.Update(ctx, regWuhan, n.ID, upd)
	if err != nil || got.FilingStatus != institutions.FilingRevoked || got.Places != 60 {
		t.Fatalf("update: %+v, %v", got, err)
	}
	var summary string
	if err := db.NewRaw(`SELECT summary FROM audit_events WHERE action = 'institutions.update' ORDER BY id DESC LIMIT 1`).Scan(ctx, &summary); err != nil {
		t.Fatal(err)
	}
	if summary != `{"fields":["places","filing_status","revoked_on"]}` {
		t.Errorf("update audit summary = %s", summary)
	}

	items, total, err := svc.List(ctx, institutions.Filter{Q: "武昌", PerPage: 10})
	if err != nil || total != 1 || items[0].ID != n.ID {
		t.Errorf("list by name: %d, %v", total, err)
	}
	if _, total, _ := svc.List(ctx, institutions.Filter{Q: in.USCC, PerPage: 10}); total != 1 {
		t.Errorf("list by USCC: %d", total)
	}

	// An employer cannot be deleted; an unused institution can.
	if _, err := db.NewRaw(`INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code, employer_institution_id)
		VALUES ('甲', '\x01', '\x01', 'm', 'female', '1990-01-01', '420106', ?)`, n.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Delete(ctx, regWuhan, n.ID); !apperr.Is(err, "institution_in_use") {
		t.Errorf("delete employer: %v", err)
	}
	if _, err := db.NewRaw(`DELETE FROM workers WHERE employer_institution_id = ?`, n.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Delete(ctx, regYichang, n.ID); !apperr.Is(err, "institution_not_found") {
		t.Errorf("delete outside region: %v", err)
	}
	if err := svc.Delete(ctx, regWuhan, n.ID); err != nil {
		t.Errorf("delete: %v", err)
	}
}

func hasField(err error, field, code string) bool {
	e, ok := apperr.As(err)
	if !ok {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field && f.Code == code {
			return true
		}
	}
	return false
}
