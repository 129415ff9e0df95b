package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

// Handler serves the calendar API and pages.
type Handler struct{ svc *Service }

// NewHandler returns the calendar handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Routes registers the API and page routes: everyone reads, only an admin
// edits.
func (h *Handler) Routes(api, pages fiber.Router) {
	admin := accounts.Require(accounts.RoleAdmin)
	// Before /:year, which would otherwise take "working-days" as a year.
	api.Get("/calendar/working-days", h.apiWorkingDays)
	api.Get("/calendar/:year", h.apiYear)
	api.Put("/calendar/:year", admin, h.apiReplace)

	pages.Get("/calendar", h.yearPage)
	pages.Get("/calendar/:year", h.yearPage)
	pages.Post("/calendar/:year", admin, h.replaceForm)
}

// dayView is a special day in the API.
type dayView struct {
	Date string `json:"date"`
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
}

func views(days []Day) []dayView {
	out := make([]dayView, len(days))
	for i, d := range days {
		out[i] = dayView{Date: d.Date.Format(time.DateOnly), Kind: d.Kind, Name: d.Name}
	}
	return out
}

// yearParam reads :year; a missing or bad year is Invalid invalid_year.
func yearParam(c *fiber.Ctx) (int, error) {
	y, err := strconv.Atoi(c.Params("year"))
	if err != nil {
		y = -1
	}
	return y, CheckYear(y)
}

func (h *Handler) apiYear(c *fiber.Ctx) error {
	year, err := yearParam(c)
	if err != nil {
		return err
	}
	days, err := h.svc.Year(c.UserContext(), year)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"year": year, "days": views(days)})
}

type replaceInput struct {
	Days []DayInput `json:"days"`
}

func (h *Handler) apiReplace(c *fiber.Ctx) error {
	year, err := yearParam(c)
	if err != nil {
		return err
	}
	var in replaceInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	if in.Days == nil {
		// An empty list clears the year; a missing one is a mistake.
		return apperr.Invalid("invalid_calendar", "请提供 days（当年的节假日与调休日列表）",
			apperr.FieldError{Field: "days", Code: "required", Message: "请提供 days 列表"})
	}
	days, err := h.svc.ReplaceYear(c.UserContext(), year, in.Days)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"year": year, "days": views(days)})
}

func (h *Handler) apiWorkingDays(c *fiber.Ctx) error {
	var errs []apperr.FieldError
	from, ok := ParseDate(c.Query("from"))
	if !ok || from.Year() < MinYear || from.Year() > MaxYear {
		errs = append(errs, apperr.FieldError{Field: "from", Code: "invalid_date",
			Message: fmt.Sprintf("from 须为 %d–%d 年间的日期（YYYY-MM-DD）", MinYear, MaxYear)})
	}
	n, err := strconv.Atoi(strings.TrimSpace(c.Query("add")))
	if err != nil || n < 0 || n > MaxAdd {
		errs = append(errs, apperr.FieldError{Field: "add", Code: "invalid_add",
			Message: fmt.Sprintf("add 须为 0 至 %d 的整数", MaxAdd)})
	}
	if len(errs) > 0 {
		return apperr.Invalid("invalid_parameters", "查询参数有误", errs...)
	}
	// The query's date is a civil date: take it in the calendar's zone.
	cal, err := h.svc.Snapshot(c.UserContext())
	if err != nil {
		return err
	}
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, cal.Location())
	end := cal.AddWorkingDays(start, n)
	return c.JSON(fiber.Map{"from": start.Format(time.DateOnly), "add": n, "date": end.Format(time.DateOnly)})
}

// ---- pages ----

// cell is one day of the month grid; Day 0 is padding.
type cell struct {
	Day   int
	Class string
	Mark  string
	Title string
}

type month struct {
	Name  string
	Weeks [][7]cell
}

// lineError is an error of the edit form, next to the line it is about.
type lineError struct {
	Line    int
	Text    string
	Message string
}

func (h *Handler) yearPage(c *fiber.Ctx) error {
	cal, err := h.svc.Snapshot(c.UserContext())
	if err != nil {
		return err
	}
	year := h.svc.now().In(cal.Location()).Year()
	if c.Params("year") != "" {
		if year, err = yearParam(c); err != nil {
			return apperr.NotFound("not_found", "没有这一年的日历")
		}
	}
	days, err := h.svc.Year(c.UserContext(), year)
	if err != nil {
		return err
	}
	return h.render(c, year, days, linesOf(days), nil, c.Query("saved") == "1")
}

func (h *Handler) replaceForm(c *fiber.Ctx) error {
	year, err := yearParam(c)
	if err != nil {
		return apperr.NotFound("not_found", "没有这一年的日历")
	}
	text := c.FormValue("days")
	in, lines, texts := parseLines(text)
	_, err = h.svc.ReplaceYear(c.UserContext(), year, in)
	if err == nil {
		return web.Redirect(c, fmt.Sprintf("/calendar/%d?saved=1", year))
	}
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		return err
	}
	var errs []lineError
	for _, f := range e.Fields {
		le := lineError{Message: f.Message}
		if f.Row > 0 && f.Row <= len(lines) {
			le.Line, le.Text = lines[f.Row-1], texts[f.Row-1]
		}
		errs = append(errs, le)
	}
	days, err := h.svc.Year(c.UserContext(), year)
	if err != nil {
		return err
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return h.render(c, year, days, text, errs, false)
}

func (h *Handler) render(c *fiber.Ctx, year int, days []Day, text string, errs []lineError, saved bool) error {
	p := accounts.PrincipalOf(c)
	return web.Render(c, "calendar/show", fiber.Map{
		"Title":   fmt.Sprintf("%d 年工作日历", year),
		"Year":    year,
		"Prev":    year - 1,
		"Next":    year + 1,
		"HasPrev": year > MinYear,
		"HasNext": year < MaxYear,
		"Months":  grid(year, days),
		"Days":    views(days),
		"Text":    text,
		"Errors":  errs,
		"Saved":   saved,
		"CanEdit": p != nil && p.Role == accounts.RoleAdmin,
	})
}

// grid lays a year out as months of Monday-first weeks.
func grid(year int, days []Day) []month {
	special := map[string]Day{}
	for _, d := range days {
		special[d.Date.Format(time.DateOnly)] = d
	}
	months := make([]month, 12)
	for m := 1; m <= 12; m++ {
		first := time.Date(year, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
		mo := month{Name: fmt.Sprintf("%d 月", m)}
		var week [7]cell
		col := (int(first.Weekday()) + 6) % 7
		for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
			c := cell{Day: d.Day()}
			if s, ok := special[d.Format(time.DateOnly)]; ok {
				c.Title = s.Name + " " + s.Kind.Label()
				if s.Kind == Holiday {
					c.Class, c.Mark = "cal-holiday", "休"
				} else {
					c.Class, c.Mark = "cal-workday", "班"
				}
			} else if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
				c.Class = "cal-weekend"
			}
			week[col] = c
			col++
			if col == 7 {
				mo.Weeks = append(mo.Weeks, week)
				week, col = [7]cell{}, 0
			}
		}
		if col > 0 {
			mo.Weeks = append(mo.Weeks, week)
		}
		months[m-1] = mo
	}
	return months
}

// linesOf writes days as the edit form's lines.
func linesOf(days []Day) string {
	var b strings.Builder
	for _, d := range days {
		fmt.Fprintf(&b, "%s %s %s\n", d.Date.Format(time.DateOnly), d.Kind, d.Name)
	}
	return b.String()
}

// kindWords are the words the form accepts for the kinds, besides the codes.
var kindWords = map[string]Kind{
	"放假": Holiday, "休": Holiday, "假": Holiday,
	"调休上班": Workday, "上班": Workday, "班": Workday, "调休": Workday,
}

// parseLines reads "YYYY-MM-DD kind name" lines; blank lines and lines
// starting with # are skipped. It returns the inputs with the line number
// and text of each, so errors can be shown next to the line.
func parseLines(text string) (in []DayInput, lines []int, texts []string) {
	for i, raw := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		var d DayInput
		if len(f) > 0 {
			d.Date = f[0]
		}
		if len(f) > 1 {
			d.Kind = f[1]
			if k, ok := kindWords[f[1]]; ok {
				d.Kind = string(k)
			}
		}
		if len(f) > 2 {
			d.Name = strings.Join(f[2:], " ")
		}
		in = append(in, d)
		lines = append(lines, i+1)
		texts = append(texts, line)
	}
	if in == nil {
		in = []DayInput{}
	}
	return in, lines, texts
}
