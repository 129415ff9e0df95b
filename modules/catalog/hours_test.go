package catalog

import (
	"encoding/json"
	"strings"
	"testing"

	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

func TestParseHours(t *testing.T) {
	tests := []struct {
		in      string
		want    Hours
		wantErr bool
	}{
		{"8", 80, false},
		{"1.5", 15, false},
		{"1.50", 15, false},
		{" 0.1 ", 1, false},
		{".5", 5, false},
		{"0", 0, false},
		{"-2", -20, false},
		{"1.25", 0, true},
		{"", 0, true},
		{"abc", 0, true},
		{"1,5", 0, true},
		{"1.x", 0, true},
		{"1e3", 0, true},
		{".", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseHours(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseHours(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseHours(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestHoursStringAndScan(t *testing.T) {
	for _, h := range []Hours{0, 1, 15, 120, 1205, -5} {
		var back Hours
		if err := back.Scan([]byte(h.String())); err != nil {
			t.Fatalf("Scan(%q): %v", h.String(), err)
		}
		if back != h {
			t.Errorf("round trip of %d via %q = %d", h, h.String(), back)
		}
	}
	if got := Hours(-5).String(); got != "-0.5" {
		t.Errorf("Hours(-5).String() = %q, want -0.5", got)
	}
	// Thirty tenths add to exactly three hours, which float64 does not.
	var sum Hours
	for range 30 {
		sum += 1
	}
	if sum != H(3) {
		t.Errorf("30 tenths = %s, want 3", sum)
	}
}

func TestHoursJSON(t *testing.T) {
	var v struct{ H Hours }
	if err := json.Unmarshal([]byte(`{"H": 12.5}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.H != 125 {
		t.Errorf("got %d, want 125", v.H)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"H":12.5}` {
		t.Errorf("marshal = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"H": 1.25}`), &v); err == nil {
		t.Error("1.25 hours accepted, want an error")
	}
}

// Values that are valid JSON but not hours are a field error on hours (a
// 422 through the strict decoder), not malformed JSON.
func TestHoursJSONRefusalIsAFieldError(t *testing.T) {
	for _, raw := range []string{`1.25`, `1e308`, `"NaN"`, `1234567`} {
		var v struct {
			H Hours `json:"hours"`
		}
		err := web.DecodeJSON(strings.NewReader(`{"hours": `+raw+`}`), &v)
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "hours" ||
			e.Fields[0].Message != "学时须为 0.1 的整数倍、不小于 0 且不超过课程学时" {
			t.Errorf("%s: %v (%+v), want invalid on hours", raw, err, e)
		}
	}
}

func TestMinimumsJSON(t *testing.T) {
	var in VersionInput
	err := web.DecodeJSON(strings.NewReader(`{"minimums": [{"category": "law", "min_hours": 8}, {"category": "skills", "min_hours": 20.5}]}`), &in)
	if err != nil || len(in.Minimums) != 2 || in.Minimums[CategoryLaw] != H(8) || in.Minimums[CategorySkills] != 205 {
		t.Fatalf("list shape: %v %v", err, in.Minimums)
	}
	for name, body := range map[string]string{
		"the old map shape":  `{"minimums": {"law": 8}}`,
		"a category twice":   `{"minimums": [{"category": "law", "min_hours": 8}, {"category": "law", "min_hours": 2}]}`,
		"an unknown member":  `{"minimums": [{"category": "law", "min": 8}]}`,
		"hours not in tenth": `{"minimums": [{"category": "law", "min_hours": 8.25}]}`,
	} {
		err := web.DecodeJSON(strings.NewReader(body), &VersionInput{})
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 {
			t.Errorf("%s: %v, want one field error", name, err)
		}
	}
}

// TestHoursNullIsNotZero: taken as 0, a null erased recorded hours.
func TestHoursNullIsNotZero(t *testing.T) {
	var v struct {
		H Hours `json:"hours"`
	}
	err := web.DecodeJSON(strings.NewReader(`{"hours": null}`), &v)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "hours" || e.Fields[0].Code != "required" {
		t.Fatalf("null hours: %v", err)
	}
}
