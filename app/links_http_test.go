package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"tuoyu/app/dbtest"
)

// TestEveryLinkOpens signs in as each demo role and follows the links of
// its pages, from the home page on: every link a page shows its reader
// must open for that reader. A link into a record outside the reader's
// scope answers 404 (DESIGN §2), which the reader sees as a broken page;
// a college once met one on each graduate's progress page (the class,
// which is the provider's).
//
// Links are visited breadth first, at most perShape of each route shape
// (numbers and query values blanked), so every kind of link is tried
// without reading every record. Verify pages are left out (their rate limit
// is counted per address, shared by the whole test binary), as are files
// (PDF, ZIP, spreadsheets) and logout.
func TestEveryLinkOpens(t *testing.T) {
	// An app of its own on a database of its own: a page's GET may write
	// (a notification read, say), and the other tests read the package's
	// demo data as seeded.
	a, err := Wire(testConfig(), dbtest.FreshMigrated(t), slog.New(slog.NewJSONHandler(io.Discard, nil)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SeedDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	const perShape = 10
	for _, user := range []string{"admin", "worker1", "college1", "college2", "provider1", "provider2",
		"hr_reviewer1", "hr_approver1", "regulator1", "regulator2", "institution1"} {
		t.Run(user, func(t *testing.T) {
			c := loginTo(t, a, user)
			seen := map[string]bool{}
			shapes := map[string]int{}
			queue := []string{"/"}
			from := map[string]string{}
			var broken []string
			for len(queue) > 0 && len(seen) < 600 {
				p := queue[0]
				queue = queue[1:]
				if seen[p] {
					continue
				}
				seen[p] = true
				res, body := c.do("GET", p, nil)
				if res.StatusCode >= 400 {
					broken = append(broken, fmt.Sprintf("%s → %d (linked from %s)", p, res.StatusCode, from[p]))
					continue
				}
				if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
					continue
				}
				for _, link := range pageLinks(p, body) {
					if seen[link] || from[link] != "" {
						continue
					}
					shape := routeShape(link)
					if shapes[shape] >= perShape {
						continue
					}
					shapes[shape]++
					from[link] = p
					queue = append(queue, link)
				}
			}
			t.Logf("%s: %d pages, %d route shapes", user, len(seen), len(shapes))
			if len(seen) < 5 {
				t.Fatalf("%s reached only %d pages: %v", user, len(seen), keys(seen))
			}
			if len(broken) > 0 {
				sort.Strings(broken)
				t.Errorf("%s follows links that do not open (%d of %d pages):\n%s", user, len(broken), len(seen), strings.Join(broken, "\n"))
			}
		})
	}
}

var (
	hrefRE = regexp.MustCompile(`href="([^"]+)"`)
	// fileRE matches downloads: files, not pages (a bank file's first
	// download also marks its batch exported, by design).
	fileRE = regexp.MustCompile(`(?i)\.(pdf|zip|xlsx|csv|ics)$|/(pdf|download|file|report)$`)
)

// pageLinks returns the same-site links of an HTML page, resolved against
// its path, without the ones the crawl leaves out.
func pageLinks(page string, body []byte) []string {
	base, _ := url.Parse(page)
	var out []string
	for _, m := range hrefRE.FindAllSubmatch(body, -1) {
		raw := strings.ReplaceAll(string(m[1]), "&amp;", "&")
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(raw, "#") {
			continue
		}
		u = base.ResolveReference(u)
		u.Fragment = ""
		p := u.RequestURI()
		switch {
		case strings.HasPrefix(p, "/assets/"), strings.HasPrefix(p, "/verify/"), strings.Contains(p, "logout"):
			continue
		case fileRE.MatchString(u.Path), u.Query().Has("format"):
			continue
		}
		out = append(out, p)
	}
	return out
}

var digitsRE = regexp.MustCompile(`[0-9]+`)

// routeShape is a link with its numbers and query values blanked: the
// route it exercises.
func routeShape(link string) string {
	u, _ := url.Parse(link)
	q := u.Query()
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	return digitsRE.ReplaceAllString(u.Path, "N") + "?" + strings.Join(names, "&")
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
