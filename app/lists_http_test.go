package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// cursorPage is the paging part of a list that pages by cursor.
type cursorPage struct {
	Items []struct {
		ID int64 `json:"id"`
	} `json:"items"`
	Total           int    `json:"total"`
	TotalIsEstimate bool   `json:"total_is_estimate"`
	NextCursor      string `json:"next_cursor"`
}

// TestListsPageByCursor: the classes list, the class search, the
// certificates list, a college's graduates and an inbox answer in the cursor shape; following next_cursor
// meets every row of the first page by number once, in order; a cursor this
// server did not hand out answers 422 invalid_cursor, a page beyond the
// first 500 rows 422 page_too_deep (DESIGN §5.4), and the pages render a
// page after a cursor.
func TestListsPageByCursor(t *testing.T) {
	for _, tc := range []struct{ user, path string }{
		{"admin", "/api/v1/classes"},
		{"provider1", "/api/v1/classes"},
		{"worker1", "/api/v1/classes/search"},
		{"admin", "/api/v1/certificates"},
		{"provider1", "/api/v1/certificates"},
		{"college1", "/api/v1/graduates/progress"},
		{"worker1", "/api/v1/notifications"},
	} {
		c := login(t, tc.user)
		res, body := c.do("GET", tc.path+"?per_page=200", nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", tc.user, tc.path, res.StatusCode, body)
		}
		whole := decode[cursorPage](t, body)
		if len(whole.Items) < 2 || whole.TotalIsEstimate || whole.Total != len(whole.Items) || whole.NextCursor != "" {
			t.Fatalf("%s %s: %d items, total %d (estimate %v), next %q: the demo world does not test this list",
				tc.user, tc.path, len(whole.Items), whole.Total, whole.TotalIsEstimate, whole.NextCursor)
		}
		var seen []int64
		next := tc.path + "?per_page=1"
		for len(seen) <= len(whole.Items) {
			res, body := c.do("GET", next, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d %s", tc.user, next, res.StatusCode, body)
			}
			p := decode[cursorPage](t, body)
			for _, it := range p.Items {
				seen = append(seen, it.ID)
			}
			if p.NextCursor == "" {
				break
			}
			next = tc.path + "?per_page=1&after=" + url.QueryEscape(p.NextCursor)
		}
		if len(seen) != len(whole.Items) {
			t.Fatalf("%s %s: the cursor walk saw %d rows, the list has %d", tc.user, tc.path, len(seen), len(whole.Items))
		}
		for i, it := range whole.Items {
			if seen[i] != it.ID {
				t.Fatalf("%s %s: row %d is %d by cursor, %d by number", tc.user, tc.path, i, seen[i], it.ID)
			}
		}
		for q, code := range map[string]string{
			"?after=bm90LWEtY3Vyc29y":     "invalid_cursor", // base64 of "not-a-cursor"
			"?after=WyJub3QgYSBkYXkiLDFd": "invalid_cursor", // ["not a day",1]
			"?after=%5B%5D":               "invalid_cursor",
			"?page=30&per_page=20":        "page_too_deep",
		} {
			res, body := c.do("GET", tc.path+q, nil)
			if res.StatusCode != http.StatusUnprocessableEntity || problemCode(t, body) != code {
				t.Errorf("%s %s%s: %d %s, want 422 %s", tc.user, tc.path, q, res.StatusCode, body, code)
			}
		}
	}
	// The pages follow the same cursor.
	for _, tc := range []struct{ user, page, api string }{
		{"admin", "/classes", "/api/v1/classes"},
		{"worker1", "/classes/search", "/api/v1/classes/search"},
		{"admin", "/certificates", "/api/v1/certificates"},
		{"college1", "/graduates", "/api/v1/graduates/progress"},
	} {
		c := login(t, tc.user)
		_, body := c.do("GET", tc.api+"?per_page=1", nil)
		p := decode[cursorPage](t, body)
		res, html := c.do("GET", tc.page+"?per_page=1&after="+url.QueryEscape(p.NextCursor), nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(html), "回到第一页") {
			t.Errorf("%s %s after a cursor: %d, want the page with a link back to the first", tc.user, tc.page, res.StatusCode)
		}
		res, _ = c.do("GET", tc.page+"?page=30", nil)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s %s?page=30: %d, want 422 page_too_deep", tc.user, tc.page, res.StatusCode)
		}
	}
}
