package web

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/apperr"
)

// MaxOffset is the deepest OFFSET a list serves with ?page=: below it the
// rows skipped cost less than a millisecond on the list's index, beyond it
// a list at province size would read and throw away rows on every request,
// so the caller follows next_cursor (?after=) instead (DESIGN §5.4).
const MaxOffset = 500

// Window is a requested window of a list: the first pages by number
// (?page=&per_page=) or, when After is set, the rows after a cursor a
// previous answer handed out as next_cursor. In cursor mode Page is 0.
type Window struct {
	Page    int
	PerPage int
	After   string
}

// Offset is the number of rows before the page (0 in cursor mode).
func (w Window) Offset() int {
	if w.After != "" || w.Page < 1 {
		return 0
	}
	return (w.Page - 1) * w.PerPage
}

// Paging reads ?page=&per_page=&after= for a list sorted on a key it can
// resume from. A page deeper than MaxOffset answers page_too_deep, naming
// the cursor to use instead. Errors: Invalid invalid_pagination,
// page_too_deep.
func Paging(c *fiber.Ctx) (Window, error) {
	p, err := Pagination(c)
	if err != nil {
		return Window{}, err
	}
	w := Window{Page: p.Page, PerPage: p.PerPage, After: strings.TrimSpace(c.Query("after"))}
	return w, w.check()
}

// PagingValues is Paging on values read elsewhere (a search form posted to a
// list page). Errors: Invalid invalid_pagination, page_too_deep.
func PagingValues(page, perPage int, after string) (Window, error) {
	w := Window{Page: page, PerPage: perPage, After: strings.TrimSpace(after)}
	return w, w.check()
}

func (w *Window) check() error {
	if w.After != "" {
		w.Page = 0
		return nil
	}
	if w.Page < 1 {
		w.Page = 1
	}
	if w.Offset() > MaxOffset {
		return apperr.Invalid("page_too_deep",
			fmt.Sprintf("第 %d 页过深：前 %d 条之后请用上一页答复中的 next_cursor 作为 after= 继续翻页", w.Page, MaxOffset),
			apperr.FieldError{Field: "page", Code: "page_too_deep", Message: "页码过深，请改用 after=<next_cursor>"})
	}
	return nil
}

// Key decodes the cursor into dst (pointers, in the list's sort order), as
// Cursor encoded it. Errors: Invalid invalid_cursor for a cursor this
// server did not hand out (or one of another list).
func (w Window) Key(dst ...any) error {
	bad := InvalidCursor()
	raw, err := base64.RawURLEncoding.DecodeString(w.After)
	if err != nil {
		return bad
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) != len(dst) {
		return bad
	}
	for i := range dst {
		if err := json.Unmarshal(parts[i], dst[i]); err != nil {
			return bad
		}
	}
	return nil
}

// InvalidCursor is the answer to a cursor this server did not hand out, for
// lists that check a decoded key further (a date that must parse).
func InvalidCursor() *apperr.Error {
	return apperr.Invalid("invalid_cursor", "翻页游标无效，请从第一页重新开始",
		apperr.FieldError{Field: "after", Code: "invalid_cursor", Message: "after 须为上一页答复中的 next_cursor"})
}

// Cursor encodes the sort key of a page's last row as an opaque cursor
// (base64url of a JSON array); Window.Key reads it back.
func Cursor(key ...any) string {
	b, err := json.Marshal(key)
	if err != nil {
		// Sort keys are strings, numbers and times: a failure here is a
		// programming error, and an empty cursor ends the list safely.
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Listing is the JSON shape of a list that pages by cursor:
// {"items":[…],"total":N,"total_is_estimate":bool,"next_cursor":"…"}.
// total is exact up to pg.ExactUpTo rows and the planner's estimate above,
// flagged by total_is_estimate; next_cursor is absent on the last page.
type Listing[T any] struct {
	Items           []T    `json:"items"`
	Total           int    `json:"total"`
	TotalIsEstimate bool   `json:"total_is_estimate"`
	NextCursor      string `json:"next_cursor,omitempty"`
}

// NewListing builds the answer of a list. Pass the rows the store read with
// one more than the page size (Window.Fetch): the extra row only tells that
// there is a next page, and cursor(i) gives the cursor after row i.
func NewListing[T any](w Window, items []T, total int, estimate bool, cursor func(i int) string) Listing[T] {
	l := Listing[T]{Items: items, Total: total, TotalIsEstimate: estimate}
	if len(items) > w.PerPage {
		l.Items = items[:w.PerPage]
		l.NextCursor = cursor(w.PerPage - 1)
	}
	if l.Items == nil {
		l.Items = []T{}
	}
	return l
}

// Fetch is the number of rows a store reads for the window: one more than
// the page, to know whether a next page exists without counting.
func (w Window) Fetch() int { return w.PerPage + 1 }

// ApproxCount shows a list's total on a page: exact below 10 000 ("8 765"
// read as 8765), and "约 18 万" when the total is an estimate or large.
func ApproxCount(n int, estimate bool) string {
	if !estimate && n < 10_000 {
		return strconv.Itoa(n)
	}
	wan := float64(n) / 10_000
	if wan < 10 {
		s := strconv.FormatFloat(wan, 'f', 1, 64)
		return "约 " + strings.TrimSuffix(s, ".0") + " 万"
	}
	return "约 " + strconv.Itoa(int(wan+0.5)) + " 万"
}
