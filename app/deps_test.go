package app

import (
	"os/exec"
	"strings"
	"testing"
)

// moduleOrder is DESIGN §10: a module may import only modules before it.
// The support packages (apperr, web, ratelimit, pii, tabular) sit below the domain.
// rosters and bans may also use workers, enrolment and certificates.
var moduleOrder = []string{"apperr", "web", "ratelimit", "pii", "audit", "accounts", "tabular", "notify", "orgs", "calendar", "institutions", "workers", "bans",
	"catalog", "enrolment", "assessments", "certificates", "subsidies", "claims", "rosters", "payouts"}

// TestDependencyDirection enforces STYLE §2 with go list: cmd imports only
// app; nothing under modules imports app (outside tests); modules import only
// modules below them; services and stores never import fiber.
func TestDependencyDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "tuoyu/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	rank := map[string]int{}
	for i, m := range moduleOrder {
		rank["tuoyu/modules/"+m] = i
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
			case strings.HasPrefix(pkg, "tuoyu/modules/") && strings.HasPrefix(imp, "tuoyu/modules/"):
				from, to := moduleRoot(pkg), moduleRoot(imp)
				if from == to {
					continue
				}
				rf, okf := rank[from]
				rt, okt := rank[to]
				if !okf || !okt {
					t.Errorf("%s imports %s: module not in the dependency order of DESIGN §10 (add it to moduleOrder)", pkg, imp)
					continue
				}
				if rt >= rf {
					t.Errorf("%s imports %s: a module may import only modules below it", pkg, imp)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no internal imports seen: the check is broken")
	}

	// Services and stores never import fiber: only handlers (and web) do.
	out, err = exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .GoFiles " "}}`, "tuoyu/modules/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, files, _ := strings.Cut(line, "|")
		for _, f := range strings.Fields(files) {
			if f != "service.go" && f != "store.go" {
				continue
			}
			src, err := exec.Command("go", "list", "-f", `{{.Dir}}`, pkg).Output()
			if err != nil {
				t.Fatal(err)
			}
			imports, err := exec.Command("grep", "-l", `"github.com/gofiber/fiber`, strings.TrimSpace(string(src))+"/"+f).CombinedOutput()
			if err == nil && len(imports) > 0 {
				t.Errorf("%s/%s imports fiber: services and stores must not", pkg, f)
			}
		}
	}
}

func moduleRoot(pkg string) string {
	parts := strings.Split(pkg, "/")
	if len(parts) < 3 {
		return pkg
	}
	return strings.Join(parts[:3], "/")
}
