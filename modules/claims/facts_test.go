package claims_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"tuoyu/modules/catalog"
	"tuoyu/modules/certificates"
	"tuoyu/modules/claims"
	"tuoyu/modules/subsidies"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func ip(n int) *int { return &n }

func hours(h catalog.Hours) *catalog.Hours { return &h }

func held(id int64, kind certificates.Kind, occ string, level *int, issued string, h *catalog.Hours) certificates.Held {
	return certificates.Held{ID: id, WorkerID: 1, Kind: kind, Source: certificates.SourceExternal, Occupation: occ,
		Level: level, Hours: h, IssuedOn: day(issued), Status: certificates.StatusValid}
}

// factCases are the worker-fact → situation mappings kept as golden files.
var factCases = []struct {
	name  string
	facts claims.Facts
}{
	{"never_asked", claims.Facts{AsOf: subsidies.MustDate("2026-12-01"), Region: "420106",
		Certificates: []certificates.Held{held(7, certificates.KindSkill, "4-10-01-03", ip(5), "2026-06-01", nil)}}},
	{"answered_none", claims.Facts{AsOf: subsidies.MustDate("2026-12-01"), Region: "420106",
		Employment: "flexible", InsuredMonths: ip(0), TargetGroups: []string{},
		Certificates: []certificates.Held{held(7, certificates.KindSkill, "4-10-01-03", ip(5), "2026-06-01", nil)}}},
	{"values_and_banned", claims.Facts{AsOf: subsidies.MustDate("2026-12-01"), Region: "420500", Banned: true,
		Employment: "enterprise_employee", InsuredMonths: ip(40), TargetGroups: []string{"graduate_of_year", "rural_migrant"},
		Certificates: []certificates.Held{held(9, certificates.KindTraining, "4-10-01-03", nil, "2026-03-01", hours(catalog.Hours(1205)))}}},
	// The later skill certificate of an occupation is not a first
	// evaluation; another occupation's is; training hours count whole hours.
	{"first_evaluation_and_hours", claims.Facts{AsOf: subsidies.MustDate("2026-12-01"), Region: "420100",
		TargetGroups: []string{"school_leaver"},
		Certificates: []certificates.Held{
			held(11, certificates.KindSkill, "4-10-01-03", ip(5), "2025-05-01", nil),
			held(12, certificates.KindSkill, "4-10-01-03", ip(4), "2026-05-01", nil),
			held(13, certificates.KindSkill, "4-10-01-02", ip(5), "2026-05-01", nil),
			held(14, certificates.KindTraining, "4-10-01-03", nil, "2026-07-01", nil),
			held(15, certificates.KindTraining, "4-10-01-03", nil, "2026-08-01", hours(catalog.Hours(79))),
		}}},
	// Claims counted as paid (any region) become payments, with the
	// occupation and level of their certificate and the day they count from.
	{"counted_claims", claims.Facts{AsOf: subsidies.MustDate("2026-12-01"), Region: "420106",
		Employment: "unemployment_benefit", TargetGroups: []string{"registered_unemployed"},
		Certificates: []certificates.Held{held(21, certificates.KindSkill, "4-10-01-03", ip(4), "2026-02-01", nil)},
		Counted: []claims.Counted{
			{ClaimID: 1, WorkerID: 1, CertificateID: 20, Subsidy: "skill_upgrade", Occupation: "4-10-01-03", Level: ip(5), On: subsidies.MustDate("2025-04-03")},
			{ClaimID: 2, WorkerID: 1, CertificateID: 20, Subsidy: "appraisal", Occupation: "4-10-01-03", Level: ip(5), On: subsidies.MustDate("2026-01-10")},
		}}},
}

func TestSituationOfGolden(t *testing.T) {
	for _, tc := range factCases {
		t.Run(tc.name, func(t *testing.T) {
			sit := claims.SituationOf(tc.facts)
			// groups as a snapshot keeps them: null (never asked) or a list.
			got, err := json.MarshalIndent(struct {
				Situation    subsidies.Situation `json:"situation"`
				TargetGroups []string            `json:"target_groups"`
			}{sit, sit.Person.Groups}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "situation_"+tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestSituationOfGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("situation differs from %s:\n%s", path, got)
			}
		})
	}
}

// The distinction that matters most: never asked is unknown, "none" is a
// known no — and neither changes what else is known.
func TestNeverAskedIsUnknownNotFail(t *testing.T) {
	ps, err := subsidies.DefaultParams()
	if err != nil {
		t.Fatal(err)
	}
	set, err := subsidies.NewParamSet(ps)
	if err != nil {
		t.Fatal(err)
	}
	status := func(f claims.Facts, subsidy string) string {
		for _, r := range subsidies.Evaluate(claims.SituationOf(f), set).Results {
			if r.Subsidy == subsidy {
				return r.Status
			}
		}
		return ""
	}
	if s := status(factCases[0].facts, "training"); s != subsidies.StatusUnknown {
		t.Errorf("never asked: training %s, want unknown", s)
	}
	if s := status(factCases[1].facts, "training"); s != subsidies.StatusIneligible {
		t.Errorf("answered none: training %s, want ineligible", s)
	}
}
