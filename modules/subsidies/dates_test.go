package subsidies

import (
	"encoding/json"
	"testing"
)

func TestAddMonths(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2024-02-29", 12, "2025-02-28"}, // leap day clamps
		{"2025-01-31", 1, "2025-02-28"},
		{"2024-01-31", 1, "2024-02-29"}, // leap year keeps the 29th
		{"2025-03-31", 1, "2025-04-30"},
		{"2025-03-01", 12, "2026-03-01"},
		{"2025-12-15", 1, "2026-01-15"}, // year rolls over
		{"2025-11-30", 3, "2026-02-28"},
		{"2024-02-29", 48, "2028-02-29"},
		{"2025-05-31", 0, "2025-05-31"},
		{"2025-03-31", -1, "2025-02-28"}, // backwards clamps too
		{"2025-01-15", -1, "2024-12-15"},
	}
	for _, tt := range tests {
		if got := AddMonths(MustDate(tt.from), tt.n).String(); got != tt.want {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, bad := range []string{"2025-02-30", "2025-13-01", "25-01-01", "2025/01/01", "", "1899-12-31", "2025-1-1"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	d := MustDate("2025-06-30")
	b, _ := json.Marshal(d)
	if string(b) != `"2025-06-30"` {
		t.Errorf("marshal: %s", b)
	}
	var back Date
	if err := json.Unmarshal(b, &back); err != nil || back != d {
		t.Errorf("round trip: %v %v", back, err)
	}
	if b, _ := json.Marshal(Date{}); string(b) != "null" {
		t.Errorf("zero date marshals as %s", b)
	}
	if !MustDate("2025-01-01").Before(MustDate("2025-01-02")) || MustDate("2025-02-01").Before(MustDate("2025-01-31")) {
		t.Error("Before is wrong")
	}
}
