package subsidies

import (
	"bytes"
	"encoding/json"
	"testing"

	"tuoyu/modules/apperr"
)

func param(name, region, from, to, value string) Param {
	p := Param{Name: name, Region: region, EffectiveFrom: MustDate(from), Value: json.RawMessage(value), Reference: "测试"}
	if to != "" {
		d := MustDate(to)
		p.EffectiveTo = &d
	}
	return p
}

func TestLookup(t *testing.T) {
	ps, err := NewParamSet([]Param{
		param("a", "420000", "2017-01-01", "2018-12-31", "36"),
		param("a", "420000", "2019-01-01", "", "12"),
		param("a", "420100", "2020-01-01", "2020-12-31", "6"), // 武汉 in 2020 only
		param("a", "420102", "2021-01-01", "", "3"),           // one district
		param("b", "420000", "2019-01-01", "", "1"),
		param("b", "420000", "2025-01-01", "", "2"), // supersedes without closing
		param("b", "420000", "2025-01-01", "", "5"), // same date: the later entry wins
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, region, asOf string
		want               string // "" = not found
	}{
		{"a", "420100", "2016-12-31", ""},
		{"a", "420100", "2017-01-01", "36"},
		{"a", "420100", "2018-12-31", "36"},
		{"a", "420100", "2019-01-01", "12"},
		{"a", "420100", "2020-06-01", "6"},
		{"a", "420102", "2020-06-01", "6"},  // district → city
		{"a", "420500", "2020-06-01", "12"}, // another city → province
		{"a", "420100", "2021-01-01", "12"}, // city value expired → province
		{"a", "420102", "2021-01-01", "3"},
		{"a", "", "2021-01-01", "12"}, // no region → province
		{"b", "420000", "2024-12-31", "1"},
		{"b", "420000", "2025-01-01", "5"},
		{"c", "420000", "2025-01-01", ""},
	}
	for _, tt := range tests {
		p, ok := ps.Lookup(tt.name, tt.region, MustDate(tt.asOf))
		got := ""
		if ok {
			got = string(p.Value)
		}
		if got != tt.want {
			t.Errorf("Lookup(%s, %s, %s) = %q, want %q", tt.name, tt.region, tt.asOf, got, tt.want)
		}
	}
}

func TestNewParamSetRejects(t *testing.T) {
	bad := []Param{
		param("", "420000", "2019-01-01", "", "1"),
		param("a", "110000", "2019-01-01", "", "1"),
		param("a", "420000", "2019-01-01", "2018-01-01", "1"),
		param("a", "420000", "2019-01-01", "", "{"),
		{Name: "a", Region: "420000", EffectiveFrom: MustDate("2019-01-01"), Value: json.RawMessage("1")}, // no reference
	}
	for i, p := range bad {
		_, err := NewParamSet([]Param{p})
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 {
			t.Errorf("case %d: got %v, want one invalid field", i, err)
		}
	}
}

func TestDefaultParams(t *testing.T) {
	dp, err := DefaultParams()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := NewParamSet(dp)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // as_of → value
		"skill_upgrade.min_insured_months@2018-12-31":    "36",
		"skill_upgrade.min_insured_months@2019-01-01":    "12",
		"skill_upgrade.annual_limit@2018-06-01":          `"none"`,
		"skill_upgrade.annual_limit@2024-12-31":          "3",
		"skill_upgrade.annual_limit@2025-01-01":          "1",
		"skill_upgrade.shortage_annual_limit@2025-01-01": "3",
		"training.lifetime_limit@2025-01-01":             "3",
		"appraisal.amount@2025-01-01":                    "200",
		"claims.notice_working_days@2025-01-01":          "5",
		"certificates.in_service_valid_years@2025-01-01": "1",
		"skill_upgrade.shortage_occupations@2025-01-01":  "[]",
	}
	for key, v := range want {
		var name, at string
		for i := len(key) - 1; i >= 0; i-- {
			if key[i] == '@' {
				name, at = key[:i], key[i+1:]
				break
			}
		}
		p, ok := ps.Lookup(name, "420100", MustDate(at))
		if !ok || string(p.Value) != v {
			t.Errorf("%s = %s (found %v), want %s", key, p.Value, ok, v)
		}
	}
	if _, ok := ps.Lookup("skill_upgrade.shortage_occupations", "420100", MustDate("2024-12-31")); ok {
		t.Error("shortage list is in force before 2025")
	}
	for _, p := range dp {
		if p.Example != (p.Name == "appraisal.amount" || len(p.Name) > 9 && p.Name[:9] == "training." && p.Name != "training.lifetime_limit" && p.Name != "training.claim_window_months") {
			t.Errorf("%s: example = %v", p.Name, p.Example)
		}
	}
}

func TestPolicyVersion(t *testing.T) {
	s := goldenSituation(t, "testdata/golden/001_base_all_eligible.json")
	ps := defaultSet(t)
	v1 := Evaluate(s, ps).PolicyVersion
	if len(v1) != 12 || v1 != Evaluate(s, ps).PolicyVersion {
		t.Fatalf("version %q is not stable", v1)
	}
	// A value that is not used does not change the version…
	unused := defaultSet(t, param("appraisal.amount", "420500", "2025-01-01", "", "300"))
	if v := Evaluate(s, unused).PolicyVersion; v != v1 {
		t.Errorf("unused value changed the version: %s → %s", v1, v)
	}
	// …one that is used does.
	used := defaultSet(t, param("appraisal.amount", "420100", "2025-01-01", "", "300"))
	if v := Evaluate(s, used).PolicyVersion; v == v1 {
		t.Error("a used value did not change the version")
	}
	// Key order inside a value does not matter.
	a := defaultSet(t, param("x.obj", "420000", "2019-01-01", "", `{"a":1,"b":2}`))
	b := defaultSet(t, param("x.obj", "420000", "2019-01-01", "", `{ "b":2, "a":1 }`))
	if ea, eb := a.byName["x.obj"][0], b.byName["x.obj"][0]; ea.canonical != eb.canonical {
		t.Errorf("canonical forms differ: %q %q", ea.canonical, eb.canonical)
	}
}

func goldenSituation(t testing.TB, file string) Situation {
	t.Helper()
	gc := readGolden(t, file)
	s, err := DecodeSituation(bytes.NewReader(gc.Situation))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
