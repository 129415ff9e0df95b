package database

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// clusterPort only names the socket file: the embedded cluster listens on no
// TCP port at all, so it never clashes with another PostgreSQL on the machine
// and nothing outside the data directory's owner (and root) can reach it.
const clusterPort = 5432

// clusterUser is the database superuser of the embedded cluster and, when
// tuoyu runs as root, the system user that runs the server (initdb refuses
// root).
const clusterUser = "postgres"

// systemBinRoot holds Debian's versioned PostgreSQL installations.
const systemBinRoot = "/usr/lib/postgresql"

// cluster is an embedded PostgreSQL cluster in <data dir>/pg.
type cluster struct {
	dir    string // <data dir>/pg: socket, log, lock and owner files
	pgdata string // <data dir>/pg/data
	bin    string // directory holding pg_ctl and initdb
	cred   *syscall.Credential
	owner  bool // this process started (or adopted) the server and stops it
	keep   bool
}

func (c *cluster) socket() string {
	return filepath.Join(c.dir, ".s.PGSQL."+strconv.Itoa(clusterPort))
}

func (c *cluster) connOptions() []pgdriver.Option {
	return []pgdriver.Option{
		pgdriver.WithNetwork("unix"),
		// pgdriver wants the socket file itself, not its directory.
		pgdriver.WithAddr(c.socket()),
		pgdriver.WithUser(clusterUser),
		pgdriver.WithInsecure(true),
		pgdriver.WithApplicationName("tuoyu"),
	}
}

// startCluster creates the cluster on first use, starts it unless another
// process already runs it, and makes sure the application database exists.
func startCluster(ctx context.Context, dataDir string, binDirs []string, keep bool, logger *slog.Logger) (*cluster, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("embedded database: resolve data dir: %w", err)
	}
	bin, err := findBinDir(binDirs)
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: filepath.Join(abs, "pg"), pgdata: filepath.Join(abs, "pg", "data"), bin: bin, keep: keep}
	if n := len(c.socket()); n > 107 {
		return nil, fmt.Errorf("embedded database: socket path %s is %d bytes, longer than the 107 the system allows; use a shorter data dir", c.socket(), n)
	}
	if os.Geteuid() == 0 {
		if c.cred, err = systemUser(clusterUser); err != nil {
			return nil, err
		}
	}
	if err := c.prepareDirs(abs); err != nil {
		return nil, err
	}

	unlock, err := lockFile(filepath.Join(c.dir, "tuoyu.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()

	created := false
	if _, err := os.Stat(filepath.Join(c.pgdata, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
		created = true
	} else if err != nil {
		return nil, fmt.Errorf("embedded database: %w", err)
	}
	if err := c.writeSettings(); err != nil {
		return nil, err
	}
	if err := c.startOrJoin(ctx); err != nil {
		return nil, err
	}
	if err := c.ensureDatabase(ctx, AppDatabase); err != nil {
		if c.owner && !c.keep {
			_ = c.stop()
		}
		return nil, err
	}
	logger.Info("database: embedded PostgreSQL", "data", c.pgdata, "socket", c.socket(),
		"created", created, "started_here", c.owner)
	return c, nil
}

// findBinDir returns the first directory holding both pg_ctl and initdb.
func findBinDir(dirs []string) (string, error) {
	if dirs == nil {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			dirs = append(dirs, filepath.Dir(p))
		}
		dirs = append(dirs, systemBinDirs()...)
	}
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "pg_ctl")) && isExecutable(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("embedded database: no PostgreSQL server binaries (pg_ctl and initdb) in %s; "+
		"install the Debian package postgresql (apt-get install postgresql) or set DATABASE_URL",
		strings.Join(dirs, ", "))
}

// systemBinDirs lists /usr/lib/postgresql/<version>/bin, newest version first.
func systemBinDirs() []string {
	entries, _ := os.ReadDir(systemBinRoot)
	var versions []int
	for _, e := range entries {
		if v, err := strconv.Atoi(e.Name()); err == nil {
			versions = append(versions, v)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(versions)))
	dirs := make([]string, 0, len(versions))
	for _, v := range versions {
		dirs = append(dirs, filepath.Join(systemBinRoot, strconv.Itoa(v), "bin"))
	}
	return dirs
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

func systemUser(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("embedded database: running as root needs the system user %q to run PostgreSQL "+
			"(the Debian package postgresql creates it): %w", name, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// prepareDirs creates <data dir>/pg. As root it hands the directory to the
// PostgreSQL user and makes sure that user can reach it.
func (c *cluster) prepareDirs(dataDir string) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("embedded database: create %s: %w", c.dir, err)
	}
	if c.cred == nil {
		return nil
	}
	if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
		return fmt.Errorf("embedded database: hand %s to %s: %w", c.dir, clusterUser, err)
	}
	// The server must traverse every directory above its own. The data dir
	// is ours, so allow traversal (not listing); above it, say what to fix.
	if st, err := os.Stat(dataDir); err == nil && st.Mode().Perm()&0o001 == 0 {
		if err := os.Chmod(dataDir, st.Mode().Perm()|0o001); err != nil {
			return fmt.Errorf("embedded database: let %s enter %s: %w", clusterUser, dataDir, err)
		}
	}
	for d := filepath.Dir(dataDir); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("embedded database: %w", err)
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("embedded database: the PostgreSQL user %s cannot enter %s (mode %v); "+
				"choose a data dir it can reach or run chmod o+x %s", clusterUser, d, st.Mode().Perm(), d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// lockFile takes an exclusive flock so that only one process at a time
// creates, starts or stops the cluster.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedded database: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("embedded database: lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func (c *cluster) initdb(ctx context.Context) error {
	// A data directory without PG_VERSION is what an interrupted initdb
	// leaves; initdb refuses a non-empty directory, so start over.
	if err := os.RemoveAll(c.pgdata); err != nil {
		return fmt.Errorf("embedded database: clear half-made %s: %w", c.pgdata, err)
	}
	if _, err := c.run(ctx, "initdb", "-D", c.pgdata, "-U", clusterUser, "--auth=trust",
		"--encoding=UTF8", "--locale=C"); err != nil {
		return fmt.Errorf("embedded database: initdb: %w", err)
	}
	conf := filepath.Join(c.pgdata, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("embedded database: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n# tuoyu writes its settings here on every start.\ninclude_if_exists = 'tuoyu.conf'\n"); err != nil {
		return fmt.Errorf("embedded database: write %s: %w", conf, err)
	}
	return nil
}

// writeSettings (re)writes tuoyu.conf on each start so that a moved data
// directory still gets its socket in the right place.
func (c *cluster) writeSettings() error {
	settings := fmt.Sprintf(`# Written by tuoyu on every start; edits are lost.
listen_addresses = ''
port = %d
unix_socket_directories = '%s'
unix_socket_permissions = 0700
max_connections = 300
# PostgreSQL's defaults are sized for a small shared host; these suit one
# application on its own machine. Larger WAL between checkpoints keeps bulk
# writes (roster commits, the nightly refresh, the scale seed) from
# checkpointing, and writing whole pages again, every few seconds.
shared_buffers = 256MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 15min
`, clusterPort, strings.ReplaceAll(c.dir, "'", "''"))
	path := filepath.Join(c.pgdata, "tuoyu.conf")
	if err := os.WriteFile(path, []byte(settings), 0o600); err != nil {
		return fmt.Errorf("embedded database: write %s: %w", path, err)
	}
	if c.cred != nil {
		if err := os.Chown(path, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("embedded database: %w", err)
		}
	}
	return nil
}

// startOrJoin starts the server, or joins one already running on this data
// directory. A running server whose starter is gone (kill -9) is adopted:
// this process then stops it on Close.
func (c *cluster) startOrJoin(ctx context.Context) error {
	ownerFile := filepath.Join(c.dir, "owner.pid")
	if c.running(ctx) {
		if err := c.waitReady(ctx, 30*time.Second); err == nil {
			// A live starter (possibly another DB of this very process) stops
			// it; only a dead starter's cluster is adopted.
			if pid := readPID(ownerFile); pid > 0 && processAlive(pid) {
				return nil
			}
			c.owner = true
			return writePID(ownerFile)
		}
		// pg_ctl trusts any live process with the pid in postmaster.pid; after
		// a crash that pid may belong to something else.
		if pid := readPID(filepath.Join(c.pgdata, "postmaster.pid")); pid > 0 && processName(pid) == "postgres" {
			return fmt.Errorf("embedded database: PostgreSQL (pid %d) runs on %s but does not answer; see %s",
				pid, c.pgdata, c.logFile())
		}
		if err := os.Remove(filepath.Join(c.pgdata, "postmaster.pid")); err != nil {
			return fmt.Errorf("embedded database: remove stale postmaster.pid: %w", err)
		}
	}
	if _, err := c.run(ctx, "pg_ctl", "start", "-D", c.pgdata, "-l", c.logFile(), "-w", "-t", "60"); err != nil {
		return fmt.Errorf("embedded database: start PostgreSQL (log in %s): %w", c.logFile(), err)
	}
	c.owner = true
	return writePID(ownerFile)
}

func (c *cluster) logFile() string { return filepath.Join(c.dir, "postgres.log") }

// running reports whether pg_ctl sees a live postmaster for the data dir.
func (c *cluster) running(ctx context.Context) bool {
	_, err := c.run(ctx, "pg_ctl", "status", "-D", c.pgdata)
	return err == nil
}

// waitReady pings the server until it answers (it may still be recovering
// after a crash).
func (c *cluster) waitReady(ctx context.Context, limit time.Duration) error {
	db := connect(append(c.connOptions(), pgdriver.WithDatabase("postgres")))
	defer db.Close()
	deadline := time.Now().Add(limit)
	for {
		err := ping(ctx, db)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *cluster) ensureDatabase(ctx context.Context, name string) error {
	db := connect(append(c.connOptions(), pgdriver.WithDatabase("postgres")))
	defer db.Close()
	var exists bool
	if err := db.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", name).Scan(ctx, &exists); err != nil {
		return fmt.Errorf("embedded database: look for database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE ?", bun.Ident(name)); err != nil {
		return fmt.Errorf("embedded database: create database %s: %w", name, err)
	}
	return nil
}

// release stops the server if this process owns it.
func (c *cluster) release() error {
	if !c.owner || c.keep {
		return nil
	}
	unlock, err := lockFile(filepath.Join(c.dir, "tuoyu.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	return c.stop()
}

func (c *cluster) stop() error {
	ownerFile := filepath.Join(c.dir, "owner.pid")
	if pid := readPID(ownerFile); pid != os.Getpid() {
		return nil // someone else adopted it; theirs to stop
	}
	c.owner = false
	// Fast shutdown: sessions of other processes sharing the cluster are
	// ended rather than waited for.
	if _, err := c.run(context.Background(), "pg_ctl", "stop", "-D", c.pgdata, "-m", "fast", "-w", "-t", "60"); err != nil {
		return fmt.Errorf("embedded database: stop PostgreSQL: %w", err)
	}
	if err := os.Remove(ownerFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("embedded database: %w", err)
	}
	return nil
}

// run runs a PostgreSQL program from the bin dir, as the PostgreSQL user
// when we are root, in its own process group so that a Ctrl-C meant for
// tuoyu does not reach the server.
func (c *cluster) run(ctx context.Context, prog string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, prog), args...)
	cmd.Dir = c.dir // a directory the PostgreSQL user can enter
	cmd.Env = append(cleanEnv(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.cred}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// pg_ctl start leaves the server running; should it ever hold our
	// output pipe, do not wait for it.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", prog, args[0], err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// cleanEnv drops PG* variables so that the caller's libpq settings cannot
// redirect initdb or pg_ctl.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG") {
			env = append(env, kv)
		}
	}
	return env
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

func writePID(path string) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("embedded database: record owner: %w", err)
	}
	return nil
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func processName(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
