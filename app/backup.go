package app

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/database"
)

// A backup (issue 15) is one tar file: manifest.json, then dump.pgdump, a
// pg_dump of the schema and data in its custom format. pg_dump reads the
// snapshot a transaction of ours exported, and the manifest's row counts
// are taken in that same snapshot, so the counts describe exactly the dump.
// The secret key is not in it: without the key the ID numbers, phones and
// bank accounts in the dump stay ciphertext. The manifest carries only a
// check value of the key, so a restore can tell a wrong key at once.

// BackupFormat names the layout of a backup file.
const BackupFormat = "tuoyu-backup/1"

// BackupManifest describes a backup.
type BackupManifest struct {
	Format     string           `json:"format"`
	CreatedAt  time.Time        `json:"created_at"`
	Migration  string           `json:"migration_version"` // the last migration applied
	Migrations int              `json:"migrations_applied"`
	RowCounts  map[string]int64 `json:"row_counts"`
	KeyCheck   string           `json:"key_check"` // HMAC of a fixed text under the secret key; not the key
	SecretKey  string           `json:"secret_key"`
	PgDump     string           `json:"pg_dump"`
}

// Rows is the total of the row counts.
func (m BackupManifest) Rows() int64 {
	var n int64
	for _, c := range m.RowCounts {
		n += c
	}
	return n
}

const secretKeyNote = "not included: keep TUOYU_SECRET_KEY (or the data directory's key file) apart from the backups; without it the personal data cannot be decrypted"

// keyCheck identifies the secret key without revealing it.
func keyCheck(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tuoyu backup key check"))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// Backup writes a backup of the database db (the owner's pool) reached by
// libpq as conn to file. Errors: pg_dump missing or failing, file errors.
func Backup(ctx context.Context, db *bun.DB, conn string, key []byte, file string) (BackupManifest, error) {
	m := BackupManifest{Format: BackupFormat, CreatedAt: time.Now().UTC(), KeyCheck: keyCheck(key), SecretKey: secretKeyNote}
	pgDump, err := database.Tool("pg_dump")
	if err != nil {
		return m, err
	}
	m.PgDump = database.ToolVersion(pgDump)
	dir, err := os.MkdirTemp(filepath.Dir(file), ".tuoyu-backup-")
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(dir)
	dump := filepath.Join(dir, "dump.pgdump")

	err = db.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
		var snapshot string
		if err := tx.NewRaw("SELECT pg_export_snapshot()").Scan(ctx, &snapshot); err != nil {
			return fmt.Errorf("export snapshot: %w", err)
		}
		if err := tx.NewRaw("SELECT name FROM bun_migrations ORDER BY name DESC LIMIT 1").Scan(ctx, &m.Migration); err != nil {
			return fmt.Errorf("read migration version: %w", err)
		}
		if err := tx.NewRaw("SELECT count(*) FROM bun_migrations").Scan(ctx, &m.Migrations); err != nil {
			return fmt.Errorf("count migrations: %w", err)
		}
		counts, err := rowCounts(ctx, tx)
		if err != nil {
			return err
		}
		m.RowCounts = counts
		// The snapshot lives as long as this transaction: pg_dump runs now.
		cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--snapshot="+snapshot, "--no-password", "--file="+dump, "--dbname="+conn)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("pg_dump: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	return m, writeBackup(file, m, dump)
}

// rowCounts counts the rows of every table of the public schema.
func rowCounts(ctx context.Context, db bun.IDB) (map[string]int64, error) {
	var tables []string
	if err := db.NewRaw("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").Scan(ctx, &tables); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	counts := make(map[string]int64, len(tables))
	for _, t := range tables {
		var n int64
		if err := db.NewRaw("SELECT count(*) FROM ?", bun.Ident(t)).Scan(ctx, &n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		counts[t] = n
	}
	return counts, nil
}

// writeBackup writes the tar file: the manifest, then the dump. It writes
// a temporary file and renames it, so a failed backup leaves no half file.
func writeBackup(file string, m BackupManifest, dump string) error {
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(file), ".tuoyu-backup-*.tar")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o600, Size: int64(len(js)), ModTime: m.CreatedAt}); err != nil {
		return err
	}
	if _, err := tw.Write(js); err != nil {
		return err
	}
	d, err := os.Open(dump)
	if err != nil {
		return err
	}
	defer d.Close()
	st, err := d.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "dump.pgdump", Mode: 0o600, Size: st.Size(), ModTime: m.CreatedAt}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, d); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o600); err != nil {
		return err
	}
	return os.Rename(f.Name(), file)
}

// ReadBackup reads the manifest of a backup file and extracts its dump
// into dir. Errors: not a backup of this format.
func ReadBackup(file, dir string) (BackupManifest, string, error) {
	var m BackupManifest
	f, err := os.Open(file)
	if err != nil {
		return m, "", err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	dump := ""
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, "", fmt.Errorf("%s is not a tuoyu backup: %w", file, err)
		}
		switch h.Name {
		case "manifest.json":
			if err := json.NewDecoder(tr).Decode(&m); err != nil {
				return m, "", fmt.Errorf("%s: manifest: %w", file, err)
			}
		case "dump.pgdump":
			dump = filepath.Join(dir, "dump.pgdump")
			out, err := os.OpenFile(dump, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return m, "", err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return m, "", err
			}
		}
	}
	if m.Format != BackupFormat || dump == "" {
		return m, "", fmt.Errorf("%s is not a %s file (format %q)", file, BackupFormat, m.Format)
	}
	return m, dump, nil
}

// Restore restores the backup file into the empty database db (the owner's
// pool) reached by libpq as conn, then checks every table's row count
// against the manifest. It refuses a database that has any table, and a
// secret key other than the backup's. Errors: those, pg_restore failing,
// counts that differ.
func Restore(ctx context.Context, db *bun.DB, conn string, key []byte, file string) (BackupManifest, error) {
	dir, err := os.MkdirTemp("", "tuoyu-restore-")
	if err != nil {
		return BackupManifest{}, err
	}
	defer os.RemoveAll(dir)
	m, dump, err := ReadBackup(file, dir)
	if err != nil {
		return m, err
	}
	if m.KeyCheck != keyCheck(key) {
		return m, errors.New("restore: the configured secret key is not the key this backup was made with; " +
			"set TUOYU_SECRET_KEY to that key (the backup does not contain it), or the personal data could not be read")
	}
	var tables int
	if err := db.NewRaw("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(ctx, &tables); err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	if tables > 0 {
		return m, fmt.Errorf("restore: the target database is not empty (%d tables); restore only into an empty database", tables)
	}
	// Grants in the dump name the application role; roles belong to the
	// server, so create it where it is missing (as migration 20261129000150 does).
	if _, err := db.ExecContext(ctx, `DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+database.AppRole+`') THEN
			CREATE ROLE `+database.AppRole+` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
		END IF; END $$`); err != nil {
		return m, fmt.Errorf("restore: create role %s: %w", database.AppRole, err)
	}
	pgRestore, err := database.Tool("pg_restore")
	if err != nil {
		return m, err
	}
	// One transaction: a restore that fails half way leaves the database empty.
	cmd := exec.CommandContext(ctx, pgRestore, "--no-owner", "--single-transaction", "--exit-on-error", "--no-password", "--dbname="+conn, dump)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return m, fmt.Errorf("pg_restore: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	got, err := rowCounts(ctx, db)
	if err != nil {
		return m, err
	}
	var diffs []string
	for t, n := range m.RowCounts {
		if got[t] != n {
			diffs = append(diffs, fmt.Sprintf("%s: %d rows, backup had %d", t, got[t], n))
		}
	}
	sort.Strings(diffs)
	if len(got) != len(m.RowCounts) {
		diffs = append(diffs, fmt.Sprintf("%d tables, backup had %d", len(got), len(m.RowCounts)))
	}
	if len(diffs) > 0 {
		return m, fmt.Errorf("restore: the restored database differs from the manifest: %s", strings.Join(diffs, "; "))
	}
	return m, nil
}

// runBackup and runRestore are `tuoyu backup FILE` and `tuoyu restore FILE`
// on the configured database (DATABASE_URL's owner, or the embedded one).
func runBackup(ctx context.Context, cfg Config, args []string, stdout io.Writer, restore bool) error {
	verb := "backup"
	if restore {
		verb = "restore"
	}
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usageError{"usage: tuoyu " + verb + " FILE"}
	}
	db, err := database.Open(ctx, dbConfig(cfg, nil))
	if err != nil {
		return err
	}
	defer db.Close()
	name, err := db.Name()
	if err != nil {
		return err
	}
	conn, err := db.ConnString(name)
	if err != nil {
		return err
	}
	file, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	if restore {
		m, err := Restore(ctx, db.Owner(), conn, cfg.SecretKey, file)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "restored %s into database %s: %d tables, %d rows, migration %s; row counts match the manifest\n",
			filepath.Base(file), name, len(m.RowCounts), m.Rows(), m.Migration)
		fmt.Fprintln(stdout, "next: tuoyu audit verify")
		return nil
	}
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new file name", file)
	}
	m, err := Backup(ctx, db.Owner(), conn, cfg.SecretKey, file)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, backupSummary(file, m))
	return nil
}

// backupSummary is what `tuoyu backup` prints: what was written, and that
// the key was not.
func backupSummary(file string, m BackupManifest) string {
	return fmt.Sprintf("backup written to %s: %d tables, %d rows, migration %s (%s)\n", file, len(m.RowCounts), m.Rows(), m.Migration, m.PgDump) +
		"the secret key is NOT in the backup: keep TUOYU_SECRET_KEY (or the data directory's key file) safe and apart from it; " +
		"without the key the ID numbers, phones and bank accounts cannot be read\n"
}
