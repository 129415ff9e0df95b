package app

import (
	"context"
	"strings"
	"testing"
)

// TestProfileShowsRegionName: the profile names the worker's region
// (district with its city) instead of showing the six-digit code.
func TestProfileShowsRegionName(t *testing.T) {
	a := testApp(t)
	var code, name, city string
	err := a.DB.NewRaw(`SELECT w.region_code, r.name, p.name FROM users u JOIN workers w ON w.id = u.worker_id
		JOIN regions r ON r.code = w.region_code JOIN regions p ON p.code = r.parent_code
		WHERE u.username = 'worker1'`).Scan(context.Background(), &code, &name, &city)
	if err != nil {
		t.Fatal(err)
	}
	res, page := login(t, "worker1").do("GET", "/me", nil)
	if res.StatusCode != 200 {
		t.Fatalf("/me: %d", res.StatusCode)
	}
	want := "<dt>所属地区</dt><dd>" + city + name + "</dd>"
	if !strings.Contains(string(page), want) {
		i := strings.Index(string(page), "所属地区")
		t.Errorf("profile region: want %q, page has %q", want, string(page)[i:min(len(page), i+80)])
	}
	if strings.Contains(string(page), ">"+code+"<") {
		t.Errorf("the profile still shows the code %s", code)
	}
	// The shared template function: a city alone, an unknown code as it is.
	r := newRegionNames(a.Orgs)
	for in, want := range map[string]string{"420100": "武汉市", "420106": "武汉市武昌区", "420000": "湖北省", "429999": "429999", "": ""} {
		if got := r.name(in); got != want {
			t.Errorf("regionName(%q) = %q, want %q", in, got, want)
		}
	}
}
