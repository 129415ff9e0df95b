package web

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/apperr"
)

// paging runs Paging on a request for target and returns its window or error.
func paging(t *testing.T, target string) (Window, error) {
	t.Helper()
	app := fiber.New()
	var w Window
	var perr error
	app.Get("/", func(c *fiber.Ctx) error { w, perr = Paging(c); return nil })
	if _, err := app.Test(httptest.NewRequest("GET", target, nil)); err != nil {
		t.Fatal(err)
	}
	return w, perr
}

func TestPagingModes(t *testing.T) {
	w, err := paging(t, "/?page=3&per_page=50")
	if err != nil || w.Page != 3 || w.PerPage != 50 || w.Offset() != 100 || w.Fetch() != 51 {
		t.Errorf("page mode: %+v offset %d, %v", w, w.Offset(), err)
	}
	// The deepest page that OFFSET still serves, then one beyond it.
	if _, err := paging(t, "/?page=26&per_page=20"); err != nil {
		t.Errorf("page 26 of 20 (offset 500): %v", err)
	}
	_, err = paging(t, "/?page=27&per_page=20")
	if !apperr.Is(err, "page_too_deep") || apperr.Status(err) != 422 {
		t.Errorf("page 27 of 20: %v, want 422 page_too_deep", err)
	}
	// A cursor wins over page, however deep.
	w, err = paging(t, "/?page=9000&after="+Cursor("王芳", 42))
	if err != nil || w.Page != 0 || w.Offset() != 0 {
		t.Errorf("cursor mode: %+v, %v", w, err)
	}
	var name string
	var id int64
	if err := w.Key(&name, &id); err != nil || name != "王芳" || id != 42 {
		t.Errorf("Key = %q %d, %v", name, id, err)
	}
}

func TestCursorRejectsForeignValues(t *testing.T) {
	var name string
	var id int64
	for _, after := range []string{"not base64!", Cursor("x"), Cursor(1, 2), Cursor("a", "b"), "e30"} {
		if err := (Window{After: after}).Key(&name, &id); !apperr.Is(err, "invalid_cursor") {
			t.Errorf("Key(%q) = %v, want invalid_cursor", after, err)
		}
	}
}

func TestNewListingCutsTheExtraRow(t *testing.T) {
	w := Window{Page: 1, PerPage: 2}
	l := NewListing(w, []int{10, 20, 30}, 3, false, func(i int) string { return Cursor([]int{10, 20, 30}[i]) })
	if len(l.Items) != 2 || l.NextCursor != Cursor(20) {
		t.Errorf("full page: %+v", l)
	}
	l = NewListing(w, []int{10}, 1, false, func(int) string { t.Fatal("no cursor on the last page"); return "" })
	if len(l.Items) != 1 || l.NextCursor != "" {
		t.Errorf("last page: %+v", l)
	}
	b, _ := json.Marshal(NewListing[int](w, nil, 180_000, true, nil))
	if string(b) != `{"items":[],"total":180000,"total_is_estimate":true}` {
		t.Errorf("json = %s", b)
	}
}

func TestApproxCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		est  bool
		want string
	}{
		{38, false, "38"}, {9999, false, "9999"}, {180_000, true, "约 18 万"}, {184_999, true, "约 18 万"},
		{12_345, true, "约 1.2 万"}, {10_001, true, "约 1 万"}, {1_000_000, true, "约 100 万"},
	} {
		if got := ApproxCount(c.n, c.est); got != c.want {
			t.Errorf("ApproxCount(%d, %v) = %q, want %q", c.n, c.est, got, c.want)
		}
	}
}
