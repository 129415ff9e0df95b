package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Phone size of issue 9: a common phone's viewport in CSS pixels.
const phoneWidth, phoneHeight = 390, 844

// minTap is the least height and width of a tap target on a phone.
const minTap = 44

// Phone makes the browser a phone: a 390 × 844 viewport with touch and the
// mobile meta-viewport rules, as a worker's phone shows the pages.
func (b *Browser) Phone() {
	b.t.Helper()
	step(b, "emulate a phone", chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch))
}

// phoneReport is what checkPhonePage measures on the current page.
type phoneReport struct {
	ScrollWidth int      `json:"scrollWidth"`
	InnerWidth  int      `json:"innerWidth"`
	ClientWidth int      `json:"clientWidth"`
	Wide        []string `json:"wide"`  // elements reaching past the right edge
	Small       []string `json:"small"` // visible tap targets under minTap
}

// measureJS reports the document's width against the viewport, the
// elements that stick out and the visible tap targets that are too small.
const measureJS = `(() => {
  const vw = document.documentElement.clientWidth;
  const name = e => e.tagName.toLowerCase() + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") +
    (e.getAttribute("name") ? "[name=" + e.getAttribute("name") + "]" : "") + " «" + ((/^(INPUT|SELECT|TEXTAREA)$/.test(e.tagName) ? e.value : e.innerText) || "").trim().slice(0, 20) + "»";
  const wide = [];
  for (const e of document.body.querySelectorAll("*")) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 1) wide.push(name(e) + " right=" + Math.round(r.right));
    if (wide.length >= 8) break;
  }
  const small = [];
  const targets = "button, select, textarea, a.button, label.menu-button, .main-nav a, .who a, " +
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio])";
  for (const e of document.querySelectorAll(targets)) {
    const r = e.getBoundingClientRect();
    const st = getComputedStyle(e);
    if (r.width === 0 || r.height === 0 || st.visibility === "hidden") continue;
    if (r.height < 43.5 || r.width < 43.5) small.push(name(e) + " " + Math.round(r.width) + "×" + Math.round(r.height));
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, clientWidth: vw, wide, small};
})()`

// checkPhonePage visits path on a phone-sized browser and fails the test
// when the page is wider than the screen (the person would scroll
// sideways) or a tap target is smaller than minTap.
func checkPhonePage(t *testing.T, b *Browser, path string) {
	t.Helper()
	if status := b.Visit(path); status != http.StatusOK {
		t.Errorf("%s answered %d on a phone", path, status)
		return
	}
	checkPhoneLayout(t, b, path)
}

// checkPhoneLayout measures the page the browser is on.
func checkPhoneLayout(t *testing.T, b *Browser, what string) {
	t.Helper()
	r := step(b, "measure "+what, chromedp.Evaluate[phoneReport](measureJS))
	if r.ClientWidth != phoneWidth {
		t.Fatalf("%s: the layout viewport is %d px wide, want %d (meta viewport?)", what, r.ClientWidth, phoneWidth)
	}
	if r.ScrollWidth > r.InnerWidth || r.ScrollWidth > r.ClientWidth {
		t.Errorf("%s is wider than the phone: document %d px, viewport %d px; sticking out: %v", what, r.ScrollWidth, r.InnerWidth, r.Wide)
	}
	if len(r.Small) > 0 {
		t.Errorf("%s has tap targets smaller than %d px: %v", what, minTap, r.Small)
	}
}

// phoneJourney: the pages a worker, a stranger and a childcare institution
// use fit a 390 × 844 phone screen: no sideways scrolling, tables as
// stacked cards, the navigation behind a menu button, large tap targets,
// region codes shown as names.
func phoneJourney(t *testing.T, srv *Server) {
	// A stranger: login, the calculator (and its answer), the home page.
	s := srv.Browser(t)
	s.Phone()
	for _, path := range []string{"/login", "/subsidies/calculator", "/", "/verify", "/notices"} {
		checkPhonePage(t, s, path)
	}
	s.Visit("/subsidies/calculator")
	s.Fill(`select[name="employment"]`, "enterprise_employee")
	s.Fill(`input[name="insured_months"]`, "14")
	s.Fill(`select[name="c1_kind"]`, "skill_level")
	s.Fill(`select[name="c1_occupation"]`, "4-10-01-03")
	s.Fill(`select[name="c1_level"]`, "4")
	s.Fill(`input[name="c1_issued_on"]`, day(today().AddDate(0, -3, 0)))
	if status := s.Submit(`form.calc-form button[type="submit"]`); status != http.StatusOK {
		t.Errorf("calculating on a phone answered %d: %q", status, s.Texts(".alert"))
	}
	checkPhoneLayout(t, s, "the calculator's answer")

	// A worker: their pages, with the menu closed until they open it.
	w := srv.Browser(t)
	w.Phone()
	w.Login("worker1")
	for _, path := range []string{"/me", "/classes/search", "/me/classes", "/notifications", "/me/certificates", "/me/assessments", "/me/subsidies", "/claims", "/account/password"} {
		checkPhonePage(t, w, path)
	}
	w.Visit("/me")
	if facts := w.Text("dl.facts"); !strings.Contains(facts, "武汉市") && !strings.Contains(facts, "襄阳市") && !strings.Contains(facts, "宜昌市") {
		t.Errorf("the profile shows the region as %q, want its name", facts)
	}
	links := w.Attrs(`main a[href^="/enrolments/"]`, "href")
	w.Visit("/me/classes")
	links = append(links, w.Attrs(`main a[href^="/enrolments/"]`, "href")...)
	if len(links) == 0 {
		t.Fatal("worker1 has no enrolment to show the progress of")
	}
	checkPhonePage(t, w, links[0])
	w.Visit("/me/classes")
	if classes := w.Attrs(`main a[href^="/classes/"]`, "href"); len(classes) > 0 {
		for _, c := range classes {
			if c != "/classes/search" {
				checkPhonePage(t, w, c)
				break
			}
		}
	}
	// A certificate and its public verification, as a worker shows it.
	w.Visit("/me/certificates")
	certs := w.Attrs(`main a[href^="/certificates/"]`, "href")
	if len(certs) == 0 {
		t.Fatal("worker1 has no certificate to show")
	}
	checkPhonePage(t, w, certs[0])
	if codes := w.Attrs(`main a[href^="/verify/"]`, "href"); len(codes) > 0 {
		checkPhonePage(t, s, codes[0])
	} else {
		t.Error("the certificate page links to no verification")
	}
	// The search results are cards: each cell says what it is.
	w.Visit("/classes/search")
	if labels := w.Attrs(`table.stack tbody td[data-label]`, "data-label"); len(labels) == 0 {
		t.Error("the class search is not a list of labelled cards")
	}
	// The menu: hidden at first, opened by its button, and it leads on.
	if w.visible(".main-nav") {
		t.Error("the navigation takes the phone's screen before the menu is opened")
	}
	w.Click(`label.menu-button`)
	if !w.visible(".main-nav") {
		t.Fatal("the menu button does not open the navigation")
	}
	checkPhoneLayout(t, w, "the open menu")
	if status := w.Submit(`.main-nav a[href="/me/classes"]`); status != http.StatusOK || w.Path() != "/me/classes" {
		t.Errorf("the menu's 我的培训 led to %s (%d)", w.Path(), status)
	}

	// A childcare institution's staff, a college and a training provider.
	for user, paths := range map[string][]string{
		"institution1": {"/", "/bans/check", "/notifications"},
		"college1":     {"/", "/rosters", "/rosters/new", "/workers"},
		"provider1":    {"/", "/classes", "/workers", "/bans/check"},
	} {
		n := srv.Browser(t)
		n.Phone()
		n.Login(user)
		for _, path := range paths {
			checkPhonePage(t, n, path)
		}
	}
}

// visible reports whether the element matching selector takes room on the
// page now.
func (b *Browser) visible(selector string) bool {
	b.t.Helper()
	return step(b, "is "+selector+" visible", chromedp.Evaluate[bool](
		`(() => { const e = document.querySelector(`+"`"+selector+"`"+`); if (!e) return false; const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; })()`))
}
