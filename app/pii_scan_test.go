package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestNoPlaintextPersonalData scans every text-like column of every table,
// and the captured log, for the ID numbers and phone numbers of the seeded
// workers and bans (issue 3 acceptance): none may appear in clear.
func TestNoPlaintextPersonalData(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	// Exercise the pages and APIs that show workers, so the log has seen them.
	for _, who := range []string{"hr_reviewer1", "college1", "regulator1", "admin"} {
		c := login(t, who)
		c.do("GET", "/api/v1/workers?per_page=200", nil)
		c.do("GET", "/workers", nil)
	}

	var secrets []string
	for _, q := range []string{
		"SELECT id_number_enc FROM workers",
		"SELECT phone_enc FROM workers WHERE phone_enc IS NOT NULL",
		"SELECT id_number_enc FROM bans",
	} {
		var encs [][]byte
		if err := a.DB.NewRaw(q).Scan(ctx, &encs); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, e := range encs {
			plain, err := a.Cipher.Decrypt(e)
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			secrets = append(secrets, plain)
		}
	}
	if len(secrets) < 200 {
		t.Fatalf("only %d seeded ID/phone numbers found: the demo seed did not run", len(secrets))
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
	scanned := 0
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
			scanned++
			for _, s := range secrets {
				if strings.Contains(v, s) {
					t.Errorf("%s.%s holds a plaintext personal number (…%s)", c.Table, c.Column, s[len(s)-4:])
				}
			}
		}
	}
	if scanned == 0 {
		t.Fatal("no values scanned")
	}
	log := logBuf.String()
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log holds a plaintext personal number (…%s)", s[len(s)-4:])
		}
	}
}
