// Package migrations holds the SQL schema migrations of every module, embedded
// into the binary so the server and `tuoyu migrate` need no files beside them.
//
// Files are named YYYYMMDDHHMMSS_<module>_<change>.up.sql with a matching
// .down.sql; each module keeps to its own timestamp range so the order holds
// when modules are written in parallel.
package migrations

import "embed"

// FS holds every *.sql migration file of this directory.
//
//go:embed *.sql
var FS embed.FS
