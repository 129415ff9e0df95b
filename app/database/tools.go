package database

import (
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ConnString is how libpq tools (pg_dump, pg_restore) reach database name
// on this server as the owning role: the owner's URL with the database
// replaced, or, for the embedded cluster, its socket directory.
func (db *DB) ConnString(name string) (string, error) {
	if db.cluster != nil {
		return fmt.Sprintf("host=%s port=%d user=%s dbname=%s", db.cluster.dir, clusterPort, clusterUser, name), nil
	}
	u, err := url.Parse(db.ownerURL)
	if err != nil || db.ownerURL == "" {
		return "", fmt.Errorf("database URL does not parse: %v", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// Name is the database the application pool is connected to.
func (db *DB) Name() (string, error) {
	var name string
	err := db.Owner().QueryRow("SELECT current_database()").Scan(&name)
	return name, err
}

// Tool finds a PostgreSQL client program (pg_dump, pg_restore): the newest
// /usr/lib/postgresql/<version>/bin first — pg_dump must be at least as new
// as the server, and Debian's PATH wrapper may pick an older one — then PATH.
func Tool(name string) (string, error) {
	best, bestVersion := "", -1
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil || !isExecutable(filepath.Join(d, name)) {
			continue
		}
		if v > bestVersion {
			best, bestVersion = filepath.Join(d, name), v
		}
	}
	if best != "" {
		return best, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found under /usr/lib/postgresql/*/bin or on PATH (Debian package postgresql-client)", name)
}

// ToolVersion is the first line of `tool --version`.
func ToolVersion(path string) string {
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}
