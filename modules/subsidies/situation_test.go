package subsidies

import (
	"bytes"
	"strings"
	"testing"

	"tuoyu/modules/apperr"
)

const validSituation = `{"as_of":"2025-06-30","region":"420100",
 "person":{"employment":"enterprise_employee","insured_months":14,"groups":["graduate_of_year"],"banned":false},
 "certificates":[{"id":"c1","kind":"skill_level","occupation":"4-10-01-03","level":4,"issued_on":"2025-03-01","first_evaluation":true,"hours":null}],
 "paid":[{"subsidy":"skill_upgrade","certificate_id":"c0","occupation":"4-10-01-03","level":5,"paid_on":"2024-05-01"}]}`

func TestDecodeSituationValid(t *testing.T) {
	s, err := DecodeSituation(strings.NewReader(validSituation))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Certificates[0]
	if s.AsOf != MustDate("2025-06-30") || s.Region != "420100" || *s.Person.InsuredMonths != 14 ||
		*s.Person.Employment != EmploymentEnterprise || *c.Level != 4 || c.Hours != nil || !*c.FirstEvaluation ||
		s.Paid[0].PaidOn != MustDate("2024-05-01") || *s.Person.Banned {
		t.Errorf("decoded wrongly: %+v", s)
	}
	// Absent fields are unknown, not errors.
	s, err = DecodeSituation(strings.NewReader(`{"certificates":[{}],"person":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Person.InsuredMonths != nil || s.Person.Groups != nil || s.Certificates[0].Level != nil || !s.AsOf.IsZero() {
		t.Errorf("absent fields not unknown: %+v", s)
	}
	// An empty groups list is known to be empty.
	s, _ = DecodeSituation(strings.NewReader(`{"person":{"groups":[]},"certificates":[{}]}`))
	if s.Person.Groups == nil || len(s.Person.Groups) != 0 {
		t.Errorf("empty groups decoded as %#v", s.Person.Groups)
	}
}

// TestDecodeSituationInvalid gives each kind of bad situation and the field
// it must name.
func TestDecodeSituationInvalid(t *testing.T) {
	tests := []struct {
		name, body, field, code string
	}{
		{"unknown subsidy", `{"paid":[{"subsidy":"housing"}]}`, "paid[0].subsidy", "unknown_value"},
		{"payment without subsidy", `{"paid":[{"paid_on":"2025-01-01"}]}`, "paid[0].subsidy", "required"},
		{"unknown kind", `{"certificates":[{"kind":"diploma"}]}`, "certificates[0].kind", "unknown_value"},
		{"level 0", `{"certificates":[{"level":0}]}`, "certificates[0].level", "out_of_range"},
		{"level 6", `{"certificates":[{"id":"a"},{"level":6}]}`, "certificates[1].level", "out_of_range"},
		{"fractional level", `{"certificates":[{"level":4.5}]}`, "certificates[0].level", "wrong_type"},
		{"paid level 6", `{"paid":[{"subsidy":"training","level":6}]}`, "paid[0].level", "out_of_range"},
		{"bad as_of", `{"as_of":"2025-02-30"}`, "as_of", "invalid_date"},
		{"bad issued_on", `{"certificates":[{"issued_on":"2025/03/01"}]}`, "certificates[0].issued_on", "invalid_date"},
		{"bad paid_on", `{"paid":[{"subsidy":"training","paid_on":"yesterday"}]}`, "paid[0].paid_on", "invalid_date"},
		{"as_of before issue", `{"as_of":"2025-02-28","certificates":[{"issued_on":"2025-03-01"}]}`, "certificates[0].issued_on", "after_as_of"},
		{"paid after as_of", `{"as_of":"2025-06-30","paid":[{"subsidy":"training","paid_on":"2025-07-01"}]}`, "paid[0].paid_on", "after_as_of"},
		{"region outside Hubei", `{"region":"110000"}`, "region", "invalid_region"},
		{"region too short", `{"region":"4201"}`, "region", "invalid_region"},
		{"region number", `{"region":420100}`, "region", "wrong_type"},
		{"string months", `{"person":{"insured_months":"14"}}`, "person.insured_months", "wrong_type"},
		{"negative months", `{"person":{"insured_months":-1}}`, "person.insured_months", "out_of_range"},
		{"unknown employment", `{"person":{"employment":"astronaut"}}`, "person.employment", "unknown_value"},
		{"unknown group", `{"person":{"groups":["poverty_monitoring","veteran"]}}`, "person.groups[1]", "unknown_value"},
		{"groups not a list", `{"person":{"groups":"rural_migrant"}}`, "person.groups", "wrong_type"},
		{"banned as string", `{"person":{"banned":"no"}}`, "person.banned", "wrong_type"},
		{"first_evaluation as number", `{"certificates":[{"first_evaluation":1}]}`, "certificates[0].first_evaluation", "wrong_type"},
		{"unknown top-level field", `{"as_of":"2025-01-01","name":"张三"}`, "name", "unknown_field"},
		{"unknown nested field", `{"certificates":[{"colour":"red"}]}`, "certificates[0].colour", "unknown_field"},
		{"certificates not a list", `{"certificates":{}}`, "certificates", "wrong_type"},
		{"certificate null", `{"certificates":[null]}`, "certificates[0]", "wrong_type"},
		{"person a list", `{"person":[]}`, "person", "wrong_type"},
		{"duplicate certificate id", `{"certificates":[{"id":"a"},{"id":"a"}]}`, "certificates[1].id", "duplicate"},
		{"no certificates", `{"as_of":"2025-06-30","certificates":[]}`, "certificates", "required"},
		{"certificates absent", `{"as_of":"2025-06-30"}`, "certificates", "required"},
		{"certificates null", `{"certificates":null}`, "certificates", "required"},
		{"top level array", `[]`, "$", "wrong_type"},
		{"top level null", `null`, "$", "wrong_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeSituation(strings.NewReader(tt.body))
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.KindInvalid || e.Code != "invalid_situation" {
				t.Fatalf("got %v, want invalid_situation", err)
			}
			for _, f := range e.Fields {
				if f.Field == tt.field && f.Code == tt.code && f.Message != "" {
					return
				}
			}
			t.Errorf("fields %+v do not name %s (%s)", e.Fields, tt.field, tt.code)
		})
	}
}

func TestDecodeSituationSeveralErrors(t *testing.T) {
	_, err := DecodeSituation(strings.NewReader(`{"region":"110000","certificates":[{"level":0,"kind":"x"}]}`))
	e, _ := apperr.As(err)
	if e == nil || len(e.Fields) != 3 {
		t.Fatalf("want one error per bad field, got %v", err)
	}
}

func TestDecodeSituationMalformed(t *testing.T) {
	for _, body := range []string{``, `{`, `{"as_of":}`, `{"a":1}{"b":2}`, `{"as_of":"2025-01-01"} x`, "\xff"} {
		_, err := DecodeSituation(strings.NewReader(body))
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindBadRequest || e.Code != "malformed_json" {
			t.Errorf("%q: got %v, want malformed_json", body, err)
		}
	}
}

// FuzzDecodeSituation checks that no input panics the decoder or the engine
// and that every refusal is a BadRequest or an Invalid error naming fields.
func FuzzDecodeSituation(f *testing.F) {
	f.Add([]byte(validSituation))
	for _, file := range goldenFiles(f) {
		f.Add([]byte(readGolden(f, file).Situation))
	}
	f.Add([]byte(`{"certificates":[{"level":1e400}]}`))
	f.Add([]byte(`{"person":{"insured_months":99999999999999999999}}`))
	ps := defaultSet(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := DecodeSituation(bytes.NewReader(body))
		if err == nil {
			if s.AsOf.IsZero() {
				s.AsOf = MustDate("2025-06-30")
			}
			ev := Evaluate(s, ps)
			if len(ev.Results) != 3*len(s.Certificates) {
				t.Fatalf("%d results for %d certificates", len(ev.Results), len(s.Certificates))
			}
			return
		}
		e, ok := apperr.As(err)
		if !ok {
			t.Fatalf("not an apperr: %v", err)
		}
		switch e.Kind {
		case apperr.KindBadRequest:
		case apperr.KindInvalid:
			if len(e.Fields) == 0 {
				t.Fatalf("invalid without fields: %v", err)
			}
			for _, fe := range e.Fields {
				if fe.Field == "" || fe.Code == "" || fe.Message == "" {
					t.Fatalf("field error without name, code or message: %+v", fe)
				}
			}
		default:
			t.Fatalf("kind %v: %v", e.Kind, err)
		}
	})
}

func TestOccupationMustBeACode(t *testing.T) {
	for occ, ok := range map[string]bool{"4-10-01-03": true, "manager": true, "4-10-01-3": false, "保育师": false, "4-10-01-03 ": false} {
		_, err := DecodeSituation(strings.NewReader(`{"as_of":"2025-06-30","region":"420100","certificates":[{"id":"c1","kind":"skill_level","occupation":"` + occ + `","level":4,"issued_on":"2025-03-01"}]}`))
		if (err == nil) != ok {
			t.Errorf("occupation %q: err %v, want ok=%v", occ, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "unknown_value") && !hasFieldCode(err, "certificates[0].occupation", "unknown_value") {
			t.Errorf("occupation %q: %v", occ, err)
		}
	}
}

func hasFieldCode(err error, field, code string) bool {
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
