package app

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// moduleOrder is DESIGN §10: a module may import only modules before it.
// The support packages (apperr, web, ratelimit, pii, pg, tabular) sit below the domain.
// Modules not built yet are listed so that they land in their place.
var moduleOrder = []string{"apperr", "web", "ratelimit", "pii", "pg", "tabular",
	"audit", "orgs", "calendar", "accounts", "notify", "institutions", "workers", "catalog", "classes",
	"enrolment", "attendance", "assessments", "certificates", "bans", "rosters", "subsidies", "claims", "payouts"}

// sideModules may use workers, enrolment and certificates (and what lies
// below them) but no domain module imports them: they react to the
// training chain, the chain never calls them. rosters also uses bans.
var sideModules = map[string][]string{"bans": nil, "rosters": {"bans"}}

// tableOwnerOverrides records tables whose owner is not the module named in
// the file name of the migration that created them (a module split moved
// them). Every other table belongs to the module of its creating migration.
var tableOwnerOverrides = map[string]string{
	"classes": "classes", "attendance": "attendance", "attendance_changes": "attendance",
}

// exemptModules exempts nothing: every module is checked.
var exemptModules = map[string]bool{}

// TestDependencyDirection enforces STYLE §2 with go list: cmd imports only
// app and nothing under modules imports app (outside tests). The module
// rules are checkTree's, below.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "tuoyu/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			if !strings.HasPrefix(imp, "tuoyu/") {
				continue
			}
			checked++
			switch {
			case strings.HasPrefix(pkg, "tuoyu/cmd/") && imp != "tuoyu/app":
				t.Errorf("%s imports %s: cmd may import only app", pkg, imp)
			case strings.HasPrefix(pkg, "tuoyu/modules/") && strings.HasPrefix(imp, "tuoyu/app"):
				t.Errorf("%s imports %s: modules never import app", pkg, imp)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no internal imports seen: the check is broken")
	}
}

// TestModuleRules runs checkTree on the repository: module order, fiber only
// in handlers, SQL only in stores, a table named only by its owner's store.
func TestModuleRules(t *testing.T) {
	owners, err := tableOwners("../migrations")
	if err != nil {
		t.Fatal(err)
	}
	if owners["workers"] != "workers" || owners["organisations"] != "orgs" || len(owners) < 20 {
		t.Fatalf("table owners read from the migrations look wrong: %v", owners)
	}
	files := 0
	for _, v := range checkTree("..", "tuoyu", owners, exemptModules, &files) {
		t.Error(v)
	}
	if files < 50 {
		t.Fatalf("checked only %d files: the walk is broken", files)
	}
}

// TestModuleRulesCatchPlantedViolations runs the same checker on a small
// fake tree (testdata/violations) with one violation of each rule planted
// and clean files beside them: it must report exactly the planted ones.
func TestModuleRulesCatchPlantedViolations(t *testing.T) {
	root := filepath.Join("testdata", "violations")
	owners, err := tableOwners(filepath.Join(root, "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	got := checkTree(root, "fake", owners, map[string]bool{"enrolment": true}, &files)
	want := []string{
		"modules/audit/audit.go: audit imports fake/modules/orgs: a module may import only modules below it (DESIGN §10)",
		"modules/bans/service.go: bans imports fiber: only handler*.go, pages*.go, http*.go and package web may",
		"modules/bans/service.go: bans calls NewSelect outside a store*.go file",
		"modules/bans/service.go: SQL names table bans outside a store*.go file",
		"modules/bans/store.go: SQL names table workers, which workers owns",
		"modules/catalog/catalog.go: catalog imports fake/modules/rosters: only rosters may import bans and rosters",
		"modules/catalog/catalog.go: model of table users, which accounts owns",
		"modules/catalog/catalog.go: catalog imports fake/modules/shiny: module not in the order of DESIGN §10 (add it to moduleOrder)",
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("violations in the planted tree:\n got  %q\n want %q", got, want)
	}
	if files != 9 {
		t.Errorf("checked %d files of the planted tree, want 9 (tests and exempt modules skipped)", files)
	}
}

// tableOwners reads which module owns each table: the module named in the
// file name of the migration that creates it (YYYYMMDDHHMMSS_<module>_…),
// unless tableOwnerOverrides says otherwise.
func tableOwners(dir string) (map[string]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	create := regexp.MustCompile(`(?i)CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)`)
	owners := map[string]string{}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".up.sql") {
			continue
		}
		parts := strings.SplitN(name, "_", 3)
		if len(parts) < 3 {
			return nil, fmt.Errorf("migration %s is not named YYYYMMDDHHMMSS_<module>_<change>.up.sql", name)
		}
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		for _, m := range create.FindAllStringSubmatch(string(src), -1) {
			owners[strings.ToLower(m[1])] = parts[1]
		}
	}
	for table, m := range tableOwnerOverrides {
		owners[table] = m
	}
	return owners, nil
}

var (
	sqlCalls = map[string]bool{"NewSelect": true, "NewInsert": true, "NewUpdate": true, "NewDelete": true,
		"NewRaw": true, "QueryContext": true, "ExecContext": true}
	tableCalls = map[string]bool{"Table": true, "TableExpr": true, "ModelTableExpr": true}
	// sqlTable finds the table after a keyword that names one in SQL text.
	sqlTable = regexp.MustCompile(`(?i)\b(?:from|join|into|update|table|copy)\s+(?:only\s+)?([a-z_][a-z0-9_]*)`)
	tagTable = regexp.MustCompile(`bun:"table:([a-z_][a-z0-9_]*)`)
)

// checkTree checks every non-test Go file under root/modules (module path
// prefix modPrefix, e.g. "tuoyu") and returns the violations, one line each,
// counting the files it read in *files.
func checkTree(root, modPrefix string, owners map[string]string, exempt map[string]bool, files *int) []string {
	rank := map[string]int{}
	for i, m := range moduleOrder {
		rank[m] = i
	}
	var out []string
	fail := func(rel, format string, args ...any) {
		out = append(out, rel+": "+fmt.Sprintf(format, args...))
	}
	modulesDir := filepath.Join(root, "modules")
	err := filepath.WalkDir(modulesDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		module := strings.Split(rel, "/")[1]
		if exempt[module] {
			return nil
		}
		*files++
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		base := filepath.Base(path)
		isStore := strings.HasPrefix(base, "store")
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/gofiber/fiber") && module != "web" &&
				!strings.HasPrefix(base, "handler") && !strings.HasPrefix(base, "pages") && !strings.HasPrefix(base, "http") {
				fail(rel, "%s imports fiber: only handler*.go, pages*.go, http*.go and package web may", module)
			}
			if !strings.HasPrefix(p, modPrefix+"/modules/") {
				continue
			}
			to := strings.Split(strings.TrimPrefix(p, modPrefix+"/modules/"), "/")[0]
			if to == module {
				continue
			}
			rf, okf := rank[module]
			rt, okt := rank[to]
			switch {
			case !okf || !okt:
				fail(rel, "%s imports %s: module not in the order of DESIGN §10 (add it to moduleOrder)", module, p)
			case isSide(to) && !slices.Contains(sideModules[module], to):
				fail(rel, "%s imports %s: only rosters may import bans and rosters", module, p)
			case rt >= rf && !isSide(module):
				fail(rel, "%s imports %s: a module may import only modules below it (DESIGN §10)", module, p)
			case isSide(module) && !isSide(to) && rt > rank["certificates"]:
				fail(rel, "%s imports %s: rosters and bans may use only workers, enrolment, certificates and below", module, p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if sqlCalls[sel.Sel.Name] && !isStore {
					fail(rel, "%s calls %s outside a store*.go file", module, sel.Sel.Name)
				}
				if tableCalls[sel.Sel.Name] && len(n.Args) > 0 {
					if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						if fs := strings.Fields(s); len(fs) > 0 {
							checkTable(fail, rel, module, isStore, owners, exempt, strings.ToLower(fs[0]))
						}
					}
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
				s, _ := strconv.Unquote(n.Value)
				for _, m := range sqlTable.FindAllStringSubmatch(s, -1) {
					checkTable(fail, rel, module, isStore, owners, exempt, strings.ToLower(m[1]))
				}
			case *ast.Field:
				if n.Tag == nil {
					return true
				}
				for _, m := range tagTable.FindAllStringSubmatch(n.Tag.Value, -1) {
					if owner, ok := owners[m[1]]; ok && owner != module && !exempt[owner] {
						fail(rel, "model of table %s, which %s owns", m[1], owner)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		out = append(out, "walk: "+err.Error())
	}
	return dedupe(out)
}

// checkTable faults SQL naming table outside its owner's store files.
func checkTable(fail func(string, string, ...any), rel, module string, isStore bool, owners map[string]string, exempt map[string]bool, table string) {
	owner, ok := owners[table]
	switch {
	case !ok || exempt[owner]:
	case owner != module:
		fail(rel, "SQL names table %s, which %s owns", table, owner)
	case !isStore:
		fail(rel, "SQL names table %s outside a store*.go file", table)
	}
}

func isSide(m string) bool { _, ok := sideModules[m]; return ok }

func dedupe(vs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
