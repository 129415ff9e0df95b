package assessments

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

// pageError is what a page shows of a failed action.
type pageError struct {
	Message string
	Rows    []apperr.FieldError
}

func toPageError(err error) (*pageError, error) {
	if err == nil {
		return nil, nil
	}
	e, ok := apperr.As(err)
	if !ok || e.Kind == apperr.KindInternal || e.Kind == apperr.KindNotFound {
		return nil, err
	}
	return &pageError{Message: e.Message, Rows: e.Fields}, nil
}

func statusOf(err error) int {
	switch apperr.KindOf(err) {
	case apperr.KindConflict:
		return fiber.StatusConflict
	case apperr.KindForbidden:
		return fiber.StatusForbidden
	case apperr.KindTooLarge:
		return fiber.StatusRequestEntityTooLarge
	case apperr.KindUnsupported:
		return fiber.StatusUnsupportedMediaType
	}
	return fiber.StatusUnprocessableEntity
}

func (h *Handler) classPage(c *fiber.Ctx) error { return h.renderClass(c, nil, "", SittingInput{}) }

func (h *Handler) renderClass(c *fiber.Ctx, actionErr error, notice string, in SittingInput) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	cl, vs, err := h.svc.ClassSittings(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	pe, err := toPageError(actionErr)
	if err != nil {
		return err
	}
	mode, err := planMode(c.UserContext(), h.svc.db, cl.PlanCode)
	if err != nil {
		return err
	}
	if pe != nil {
		c.Status(statusOf(actionErr))
	}
	return web.Render(c, "assessments/class", fiber.Map{
		"Title": "考核安排：" + cl.Name, "Class": cl, "Sittings": vs, "Error": pe, "Notice": notice, "Form": in,
		"Kinds": KindsOf(mode), "ModeLabel": modeKinds(mode), "Own": p.Is(accounts.RoleProvider) && cl.ProviderOrgID == p.OrgID,
		"ClassEnds": cl.EndsOn.Format("2006-01-02"),
	})
}

func sittingForm(c *fiber.Ctx) SittingInput {
	return SittingInput{Kind: Kind(c.FormValue("kind")), StartsAt: c.FormValue("starts_at"), EndsAt: c.FormValue("ends_at"),
		Place: c.FormValue("place"), Capacity: atoi(c.FormValue("capacity")), Rooms: atoi(c.FormValue("rooms")),
		ConfirmNonWorkingDay: c.FormValue("confirm_non_working_day") == "on", Reason: c.FormValue("reason")}
}

func (h *Handler) scheduleForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	in := sittingForm(c)
	v, err := h.svc.Schedule(c.UserContext(), accounts.PrincipalOf(c), id, in)
	if err != nil {
		return h.renderClass(c, err, "", in)
	}
	return web.Redirect(c, fmt.Sprintf("/assessments/%d", v.ID))
}

func (h *Handler) showPage(c *fiber.Ctx) error { return h.renderShow(c, nil, "", nil) }

// resultLine is one candidate on the results form.
type resultLine struct {
	CandidateView
	Value string
}

func (h *Handler) renderShow(c *fiber.Ctx, actionErr error, notice string, preview *previewData) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	sit, cands, err := h.svc.Candidates(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	pe, err := toPageError(actionErr)
	if err != nil {
		return err
	}
	examiners, err := h.svc.Examiners(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	changes, err := NewStore(h.svc.db).Changes(c.UserContext(), id)
	if err != nil {
		return err
	}
	// Five empty examiner rows after the stored ones: enough to add a panel
	// without JavaScript.
	rows := append([]Examiner{}, examiners...)
	for i := 0; i < 5; i++ {
		rows = append(rows, Examiner{Role: RoleProctor})
	}
	lines := make([]resultLine, len(cands))
	recorded := 0
	for i, cv := range cands {
		lines[i] = resultLine{CandidateView: cv, Value: c.FormValue(fmt.Sprintf("score_%d", cv.EnrolmentID))}
		if cv.ResultID != 0 {
			recorded++
		}
	}
	if pe != nil {
		c.Status(statusOf(actionErr))
	}
	started := !h.svc.now().Before(sit.StartsAt)
	return web.Render(c, "assessments/show", fiber.Map{
		"Title": fmt.Sprintf("%s考核 第%d次", sit.Kind.Label(), sit.Attempt), "Sitting": sit, "Lines": lines, "Examiners": rows,
		"Changes": changes, "Error": pe, "Notice": notice, "Preview": preview, "Recorded": recorded,
		"Own": p.Is(accounts.RoleProvider) && sit.ProviderOrgID == p.OrgID, "Started": started,
		"Open": sit.State == StateScheduled, "StartsLocal": sit.StartsAt.In(h.loc).Format("2006-01-02T15:04"),
		"EndsLocal": sit.EndsAt.In(h.loc).Format("2006-01-02T15:04"),
	})
}

func (h *Handler) moveForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.svc.Move(c.UserContext(), accounts.PrincipalOf(c), id, sittingForm(c)); err != nil {
		return h.renderShow(c, err, "", nil)
	}
	return h.renderShow(c, nil, "已改期并通知考生。", nil)
}

func (h *Handler) cancelForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.Cancel(c.UserContext(), accounts.PrincipalOf(c), id, c.FormValue("reason")); err != nil {
		return h.renderShow(c, err, "", nil)
	}
	return h.renderShow(c, nil, "已取消该场考核并通知考生。", nil)
}

func (h *Handler) examinersForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in []ExaminerInput
	for i := 0; i < 100; i++ {
		name := c.FormValue(fmt.Sprintf("name_%d", i))
		if name == "" && c.FormValue(fmt.Sprintf("role_%d", i)) == "" {
			continue
		}
		in = append(in, ExaminerInput{Name: name, Role: c.FormValue(fmt.Sprintf("role_%d", i))})
	}
	v, err := h.svc.SetExaminers(c.UserContext(), accounts.PrincipalOf(c), id, in)
	if err != nil {
		return h.renderShow(c, err, "", nil)
	}
	notice := "考评人员已保存。"
	if !v.Ratio.OK {
		notice += v.Ratio.Message
	}
	return h.renderShow(c, nil, notice, nil)
}

// resultsForm reads one score field and one absent box per candidate;
// rows left empty are not sent.
func (h *Handler) resultsForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	_, cands, err := h.svc.Candidates(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	var rows []ResultInput
	for i, cv := range cands {
		if cv.ResultID != 0 {
			continue
		}
		score := strings.TrimSpace(c.FormValue(fmt.Sprintf("score_%d", cv.EnrolmentID)))
		absent := c.FormValue(fmt.Sprintf("absent_%d", cv.EnrolmentID)) == "on"
		if score == "" && !absent {
			continue
		}
		rows = append(rows, ResultInput{EnrolmentID: cv.EnrolmentID, ScoreText: score, Absent: absent, Row: i + 1})
	}
	res, err := h.svc.RecordResults(c.UserContext(), p, id, rows)
	if err != nil {
		return h.renderShow(c, err, "", nil)
	}
	return h.renderShow(c, nil, fmt.Sprintf("已录入 %d 人：合格 %d，不合格 %d，缺考 %d。", res.Recorded, res.Passed, res.Failed, res.Absent), nil)
}

// previewData is a checked upload waiting for confirmation: the rows go
// back as hidden fields, so nothing is stored before the commit.
type previewData struct {
	Rows   []ResultInput
	Result Recorded
}

func (h *Handler) importForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	if c.FormValue("confirm") == "true" {
		var rows []ResultInput
		n := atoi(c.FormValue("rows"))
		for i := 0; i < n && i < 5000; i++ {
			eid, _ := strconv.ParseInt(c.FormValue(fmt.Sprintf("e_%d", i)), 10, 64)
			rows = append(rows, ResultInput{EnrolmentID: eid, ScoreText: c.FormValue(fmt.Sprintf("s_%d", i)),
				Absent: c.FormValue(fmt.Sprintf("a_%d", i)) == "true", Row: atoi(c.FormValue(fmt.Sprintf("r_%d", i)))})
		}
		res, err := h.svc.RecordResults(c.UserContext(), p, id, rows)
		if err != nil {
			return h.renderShow(c, err, "", nil)
		}
		return h.renderShow(c, nil, fmt.Sprintf("文件中的 %d 条成绩已全部录入：合格 %d，不合格 %d，缺考 %d。", res.Recorded, res.Passed, res.Failed, res.Absent), nil)
	}
	data, name, err := upload(c)
	if err != nil {
		return h.renderShow(c, err, "", nil)
	}
	rows, err := h.svc.ParseResults(c.UserContext(), p, id, data, name)
	if err != nil {
		return h.renderShow(c, err, "", nil)
	}
	res, err := h.svc.PreviewResults(c.UserContext(), p, id, rows)
	if err != nil {
		return h.renderShow(c, err, "", nil)
	}
	return h.renderShow(c, nil, "", &previewData{Rows: rows, Result: res})
}

func (h *Handler) correctForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	sittingID, _ := strconv.ParseInt(c.FormValue("sitting_id"), 10, 64)
	in := CorrectionInput{ScoreText: c.FormValue("score"), Absent: c.FormValue("absent") == "on", Reason: c.FormValue("reason")}
	_, cerr := h.svc.Correct(c.UserContext(), accounts.PrincipalOf(c), id, in)
	if cerr != nil && apperr.KindOf(cerr) == apperr.KindNotFound {
		return cerr
	}
	return h.redirectOrRender(c, sittingID, cerr)
}

func (h *Handler) redirectOrRender(c *fiber.Ctx, sittingID int64, err error) error {
	if err == nil {
		return web.Redirect(c, fmt.Sprintf("/assessments/%d", sittingID))
	}
	pe, ierr := toPageError(err)
	if ierr != nil {
		return ierr
	}
	c.Status(statusOf(err))
	return web.Render(c, "assessments/error", fiber.Map{"Title": "更正未保存", "Error": pe, "SittingID": sittingID})
}

func (h *Handler) minePage(c *fiber.Ctx) error { return h.renderMine(c, "") }

func (h *Handler) renderMine(c *fiber.Ctx, token string) error {
	p := accounts.PrincipalOf(c)
	outs, sits, err := h.svc.MyAssessments(c.UserContext(), p)
	if err != nil {
		return err
	}
	has, err := h.svc.HasCalendarToken(c.UserContext(), p.WorkerID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, o := range outs {
		names[o.ClassID] = o.ClassName
	}
	feed := ""
	if token != "" {
		feed = h.feedURL(token)
	}
	return web.Render(c, "assessments/mine", fiber.Map{"Title": "我的考核", "Outcomes": outs, "Sittings": sits, "ClassNames": names,
		"HasFeed": has, "FeedURL": feed})
}

func (h *Handler) resetTokenForm(c *fiber.Ctx) error {
	tok, err := h.svc.ResetCalendarToken(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	return h.renderMine(c, tok)
}
