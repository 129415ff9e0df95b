package app

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestPlansRoundTrip: what GET /api/v1/plans/{code} returns under current
// can be PUT back unchanged, for every seeded plan: 200, no new version, and
// the plan reads the same afterwards.
func TestPlansRoundTrip(t *testing.T) {
	admin := login(t, "admin")
	_, body := admin.do("GET", "/api/v1/plans", nil)
	list := decode[struct {
		Items []struct {
			Code string `json:"code"`
		} `json:"items"`
	}](t, body)
	if len(list.Items) < 2 {
		t.Fatalf("only %d plans seeded", len(list.Items))
	}
	for _, p := range list.Items {
		path := "/api/v1/plans/" + p.Code
		res, before := admin.do("GET", path, nil)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		doc := decode[struct {
			Current json.RawMessage `json:"current"`
		}](t, before)
		res, out := admin.do("PUT", path, bytes.NewReader(doc.Current), "Content-Type", "application/json")
		if res.StatusCode != 200 {
			t.Errorf("PUT %s back: %d %s", path, res.StatusCode, out)
			continue
		}
		if got := decode[struct {
			New bool `json:"new_version"`
		}](t, out); got.New {
			t.Errorf("PUT %s back made a new version: %s", path, out)
		}
		if _, after := admin.do("GET", path, nil); !bytes.Equal(after, before) {
			t.Errorf("%s changed by putting it back:\nbefore %s\nafter  %s", path, before, after)
		}
	}
	// A copy of an older version is refused rather than silently applied.
	_, body = admin.do("GET", "/api/v1/plans/"+list.Items[0].Code, nil)
	var cur map[string]any
	if err := json.Unmarshal([]byte(decode[struct {
		Current json.RawMessage `json:"current"`
	}](t, body).Current), &cur); err != nil {
		t.Fatal(err)
	}
	cur["version"] = cur["version"].(float64) + 7
	if res, out := admin.do("PUT", "/api/v1/plans/"+list.Items[0].Code, cur); res.StatusCode != 409 || problemCode(t, out) != "stale_version" {
		t.Errorf("stale copy: %d %s", res.StatusCode, out)
	}
}
