package orgs_test

import (
	"context"
	"os"
	"testing"

	"tuoyu/app/dbtest"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/orgs"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func TestValidUSCC(t *testing.T) {
	for code, want := range map[string]bool{
		"9144030071526726XG": true,  // a published code (Shenzhen)
		"91420100MA4K2B3C4D": false, // made up
		"9144030071526726XH": false, // wrong check character
		"9144030071526726X":  false, // 17 characters
		"9144030071526726IG": false, // I is not in the character set
	} {
		if got := orgs.ValidUSCC(code); got != want {
			t.Errorf("ValidUSCC(%s) = %v, want %v", code, got, want)
		}
	}
	first := "91420106MA4K12345"
	code := first + string(orgs.USCCCheckChar(first))
	if !orgs.ValidUSCC(code) {
		t.Errorf("code built with USCCCheckChar is invalid: %s", code)
	}
}

func TestCreateOrganisation(t *testing.T) {
	db := dbtest.DB(t)
	svc := orgs.NewService(db)
	ctx := audit.WithRequest(context.Background(), audit.Request{Label: "admin"})
	o, err := svc.Create(ctx, orgs.Input{Code: "College-X", Name: " 襄阳职业技术学院 ", Kind: "college", RegionCode: "420600", USCC: "9144030071526726xg"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Code != "college-x" || o.Name != "襄阳职业技术学院" || o.USCC != "9144030071526726XG" {
		t.Fatalf("not normalised: %+v", o)
	}
	got, err := svc.ByCode(ctx, "college-x")
	if err != nil || got.RegionName != "襄阳市" {
		t.Fatalf("ByCode = %+v, %v", got, err)
	}

	for _, tc := range []struct {
		in    orgs.Input
		field string
		code  string
	}{
		{orgs.Input{Code: "c2", Name: "x", Kind: "college", RegionCode: "110000"}, "region_code", "unknown_region"},
		{orgs.Input{Code: "c3", Name: "x", Kind: "school", RegionCode: "420100"}, "kind", "invalid_kind"},
		{orgs.Input{Code: "c4", Name: "x", Kind: "college", RegionCode: "420100", USCC: "9144030071526726XH"}, "uscc", "invalid_uscc"},
		{orgs.Input{Code: "c5", Name: "", Kind: "college", RegionCode: "420100"}, "name", "required"},
	} {
		_, err := svc.Create(ctx, tc.in)
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != tc.field || e.Fields[0].Code != tc.code {
			t.Errorf("Create(%+v) = %v, want %s on %s", tc.in, err, tc.code, tc.field)
		}
	}
	if _, err := svc.Create(ctx, orgs.Input{Code: "college-x", Name: "dup", Kind: "college", RegionCode: "420100"}); apperr.KindOf(err) != apperr.KindConflict {
		t.Fatalf("duplicate code: %v", err)
	}
	n, _ := db.NewSelect().Table("organisations").Where("code IN ('c2','c3','c4','c5')").Count(ctx)
	if n != 0 {
		t.Fatalf("%d invalid organisations stored", n)
	}
}

func TestRegionsCoverHubei(t *testing.T) {
	db := dbtest.DB(t)
	rs, err := orgs.NewService(db).Regions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	prefecture := 0
	byCode := map[string]orgs.Region{}
	for _, r := range rs {
		byCode[r.Code] = r
		if r.Level == 2 {
			prefecture++
		}
	}
	if prefecture != 17 {
		t.Errorf("%d prefecture-level units, want 17", prefecture)
	}
	for _, code := range []string{"420102", "420506", "420607", "429021", "422800"} {
		if _, ok := byCode[code]; !ok {
			t.Errorf("region %s missing", code)
		}
	}
	if byCode["420506"].ParentCode != "420500" {
		t.Errorf("夷陵区 parent = %s", byCode["420506"].ParentCode)
	}
}
