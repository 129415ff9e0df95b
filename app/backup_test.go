package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tuoyu/app/database"
	"tuoyu/app/dbtest"
	"tuoyu/modules/audit"
	"tuoyu/modules/pii"
)

// TestBackupRestore backs up the demo world, restores it into a fresh
// database and checks that it is the same world (issue 15): row counts,
// an intact audit chain, personal data that decrypts and is found by its
// blind index with the same key, and an app wired on it that answers. The
// backup holds no plaintext personal number and not the key; a restore
// refuses a non-empty database and a different key.
func TestBackupRestore(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	owner := dbtest.DB(t)
	key := a.Config.SecretKey
	file := filepath.Join(t.TempDir(), "tuoyu.backup")

	m, err := Backup(ctx, owner, dbtest.ConnString(t), key, file)
	if err != nil {
		t.Fatal(err)
	}
	var last string
	if err := owner.NewRaw("SELECT max(name) FROM bun_migrations").Scan(ctx, &last); err != nil {
		t.Fatal(err)
	}
	if m.Migration != last || m.Migrations < 20 {
		t.Errorf("manifest migration %q (%d), want %q", m.Migration, m.Migrations, last)
	}
	if m.RowCounts["workers"] < 200 || m.RowCounts["audit_events"] == 0 || m.RowCounts["classes"] == 0 {
		t.Errorf("manifest row counts %v: the demo world is missing", m.RowCounts)
	}
	if !strings.Contains(backupSummary(file, m), "secret key is NOT in the backup") {
		t.Error("the backup command does not say the key is not in the backup")
	}

	// Neither the key nor a plaintext personal number is in the file; the
	// dump is compressed, so pg_restore turns it back into SQL to scan.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range [][]byte{key, []byte(base64.StdEncoding.EncodeToString(key)), []byte(base64.RawURLEncoding.EncodeToString(key))} {
		if bytes.Contains(raw, form) {
			t.Fatal("the backup file holds the secret key")
		}
	}
	dir := t.TempDir()
	_, dump, err := ReadBackup(file, dir)
	if err != nil {
		t.Fatal(err)
	}
	pgRestore, err := database.Tool("pg_restore")
	if err != nil {
		t.Fatal(err)
	}
	sqlText, err := exec.Command(pgRestore, "--file=-", dump).Output()
	if err != nil {
		t.Fatalf("pg_restore to SQL: %v", err)
	}
	if !bytes.Contains(sqlText, []byte("COPY public.workers")) {
		t.Fatal("the dump holds no workers")
	}
	secrets := personalNumbers(t, a)
	if s := secrets.find(sqlText); s != "" {
		t.Errorf("the backup holds a plaintext personal number (…%s)", s[len(s)-4:])
	}
	if s := secrets.find(raw); s != "" {
		t.Errorf("the backup file holds a plaintext personal number (…%s)", s[len(s)-4:])
	}

	// Restore into a fresh database.
	fresh, conn := dbtest.FreshConn(t)
	other := bytes.Repeat([]byte{9}, 32)
	if _, err := Restore(ctx, fresh, conn, other, file); err == nil || !strings.Contains(err.Error(), "secret key") {
		t.Fatalf("restore with another key: %v", err)
	}
	if _, err := Restore(ctx, fresh, conn, key, file); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, fresh, conn, key, file); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a non-empty database: %v", err)
	}
	got, err := rowCounts(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	for table, n := range m.RowCounts {
		if got[table] != n {
			t.Errorf("%s: %d rows restored, %d backed up", table, got[table], n)
		}
	}
	res, err := audit.Verify(ctx, fresh)
	if err != nil || !res.OK || res.Checked != m.RowCounts["audit_events"] {
		t.Fatalf("audit verify on the restored database: %+v %v (want %d events)", res, err, m.RowCounts["audit_events"])
	}
	var people []struct {
		Enc []byte `bun:"id_number_enc"`
		Idx []byte `bun:"id_number_idx"`
	}
	if err := fresh.NewRaw("SELECT id_number_enc, id_number_idx FROM workers").Scan(ctx, &people); err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		plain, err := a.Cipher.Decrypt(p.Enc)
		if err != nil {
			t.Fatalf("a restored ID number does not decrypt with the same key: %v", err)
		}
		if !bytes.Equal(a.Cipher.Index(pii.KindIDNumber, plain), p.Idx) {
			t.Fatal("a restored blind index does not match its ID number under the same key")
		}
	}

	// The restored world serves: an app wired on it answers 武汉's HR.
	b, err := Wire(testConfig(), fresh, slog.New(slog.NewJSONHandler(io.Discard, nil)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range []struct {
		app  *App
		name string
	}{{a, "original"}, {b, "restored"}} {
		res, body := sessionClient(t, db.app, "hr_reviewer1").do("GET", "/api/v1/workers?per_page=1", nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: GET /api/v1/workers = %d %s", db.name, res.StatusCode, body)
		}
	}
	// A certificate still verifies on the restored world, with the same
	// answer the original gives (the signing key is not in the backup
	// either; both apps here load the same one).
	var code string
	if err := fresh.NewRaw("SELECT verify_code FROM certificates WHERE status = 'valid' ORDER BY id LIMIT 1").Scan(ctx, &code); err != nil {
		t.Fatalf("no valid certificate restored: %v", err)
	}
	before, err := a.Certificates.Verify(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	after, err := b.Certificates.Verify(ctx, code)
	if err != nil || after.Status != "valid" || after.Number != before.Number || after.Signature != before.Signature {
		t.Fatalf("certificate %s on the restored world: %+v %v (original %+v)", code, after, err, before)
	}
	_, w1 := sessionClient(t, a, "hr_reviewer1").do("GET", "/api/v1/workers?per_page=1", nil)
	_, w2 := sessionClient(t, b, "hr_reviewer1").do("GET", "/api/v1/workers?per_page=1", nil)
	if decode[struct{ Total int }](t, w1).Total != decode[struct{ Total int }](t, w2).Total {
		t.Errorf("HR sees %s workers in the original and %s in the restored world", w1, w2)
	}
}

// TestBackupCommandUsage: the commands want exactly one file.
func TestBackupCommandUsage(t *testing.T) {
	for _, args := range [][]string{{"backup"}, {"restore"}, {"backup", "a", "b"}} {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), args, func(k string) string {
			if k == "TUOYU_DATA_DIR" {
				return t.TempDir()
			}
			return ""
		}, strings.NewReader(""), &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), "usage: tuoyu "+args[0]+" FILE") {
			t.Errorf("tuoyu %s: exit %d, %q", strings.Join(args, " "), code, errOut.String())
		}
	}
}
