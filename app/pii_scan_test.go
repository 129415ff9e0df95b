package app

import (
	"context"
	"fmt"
	"testing"
)

// TestNoPlaintextPersonalData scans every text-like column of every table —
// the audit trail (audit_events) and the job log (job_runs) among them — and
// the captured server log for the ID numbers, phone numbers and bank
// accounts of the seeded workers, bans and roster rows (issues 3 and 15):
// none may appear in clear. Answers and exports are scanned by the access
// matrix; backups by TestBackupRestore.
func TestNoPlaintextPersonalData(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	// Exercise the pages and APIs that show workers, a reveal, a failed
	// login with a phone number as the username, and a job run, so the
	// log, the trail and the job log have seen them.
	secrets := personalNumbers(t, a)
	var phone string
	for n := range secrets.numbers {
		if len(n) == 11 {
			phone = n
			break
		}
	}
	if phone == "" {
		t.Fatal("no phone number among the seeded personal numbers")
	}
	anon(t).do("POST", "/api/v1/session", map[string]string{"username": phone, "password": "Wrong-Password-1"})
	for _, who := range []string{"hr_reviewer1", "college1", "regulator1", "admin"} {
		c := sessionClient(t, a, who)
		c.do("GET", "/api/v1/workers?per_page=200", nil)
		c.do("GET", "/workers", nil)
	}
	w := newAccessWorld(t, a)
	sessionClient(t, a, "hr_reviewer1").do("POST", "/workers/"+w.fixed["worker_wh"]+"/reveal", "")
	if res, body := sessionClient(t, a, "admin").do("POST", "/api/v1/jobs/audit.verify/run", nil); res.StatusCode >= 300 {
		t.Fatalf("run audit.verify: %d %s", res.StatusCode, body)
	}

	var cols []struct {
		Table  string `bun:"table_name"`
		Column string `bun:"column_name"`
		Type   string `bun:"data_type"`
	}
	err := a.DB.NewRaw(`SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea')`).Scan(ctx, &cols)
	if err != nil {
		t.Fatal(err)
	}
	scanned := map[string]int{}
	for _, c := range cols {
		expr := fmt.Sprintf("%q::text", c.Column)
		if c.Type == "bytea" {
			// Plaintext written into a bytea column would show as its UTF-8 bytes.
			expr = fmt.Sprintf("encode(%q, 'escape')", c.Column)
		}
		var values []string
		q := fmt.Sprintf("SELECT %s FROM %q WHERE %q IS NOT NULL", expr, c.Table, c.Column)
		if err := a.DB.NewRaw(q).Scan(ctx, &values); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, v := range values {
			scanned[c.Table]++
			if s := secrets.find([]byte(v)); s != "" {
				t.Errorf("%s.%s holds a plaintext personal number (…%s)", c.Table, c.Column, s[len(s)-4:])
			}
		}
	}
	for _, table := range []string{"workers", "bans", "roster_rows", "audit_events", "job_runs", "login_attempts"} {
		if scanned[table] == 0 {
			t.Errorf("no values of %s scanned: the scan missed a table it must cover", table)
		}
	}
	if s := secrets.find([]byte(logBuf.String())); s != "" {
		t.Errorf("the log holds a plaintext personal number (…%s)", s[len(s)-4:])
	}
}
