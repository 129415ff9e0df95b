package attendance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/pii"
	"tuoyu/modules/tabular"
	"tuoyu/modules/workers"
)

// columns are the columns of a sign-in sheet (签到表) and the header texts
// accepted for each: one row per person present at a lesson.
var columns = map[string][]string{
	"date":         {"日期", "上课日期", "签到日期"},
	"course_code":  {"课程代码", "课程编号"},
	"hours":        {"学时", "课时", "学时数"},
	"id_number":    {"身份证号", "身份证号码", "公民身份号码", "证件号码"},
	"enrolment_id": {"报名编号", "报名号", "学籍号"},
	"name":         {"姓名"},
}

// ReadSheet reads a sign-in sheet (CSV or XLSX: 日期, 课程代码, 学时,
// 身份证号 or 报名编号, one row per person present) of class classID into
// lessons: rows with the same date and course are one lesson. Nothing is
// stored. Errors: those of package tabular (file errors), NotFound
// (class_not_found), Conflict (class_not_running), Invalid
// (missing_columns, empty_file, lesson_invalid with one error per bad row:
// required, unknown_worker, invalid_hours, hours_mismatch, duplicate).
func (s *Service) ReadSheet(ctx context.Context, p *accounts.Principal, classID int64, data []byte, filename string) ([]LessonInput, error) {
	t, err := tabular.Open(data, filename, tabular.Options{
		Columns: columns, Required: []string{"date", "course_code", "hours"}, MaxRows: 20000,
	})
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if !t.Has("id_number") && !t.Has("enrolment_id") {
		return nil, apperr.Invalid(tabular.CodeMissingColumns, "文件须包含“身份证号”或“报名编号”列")
	}
	var ins []LessonInput
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		k, err := s.open(ctx, tx, p, classID)
		if err != nil {
			return err
		}
		byIdx, err := attendingByIDNumber(ctx, tx, k.seats)
		if err != nil {
			return err
		}
		rd := reader{seats: k.seats, byIdx: byIdx, cipher: s.cipher}
		ins, err = rd.read(t)
		return err
	})
	return ins, err
}

// RecordLessons stores the lessons of a sign-in sheet (as ReadSheet
// returned them) all or nothing, recomputing completion at once. Errors: as
// RecordLesson, with every problem of every lesson in one lesson_invalid.
func (s *Service) RecordLessons(ctx context.Context, p *accounts.Principal, classID int64, ins []LessonInput) ([]LessonResult, error) {
	return s.recordAll(ctx, p, classID, ins, true)
}

// PreviewLessons answers what RecordLessons would store, with the same
// checks and completions, and stores nothing: it runs them in a
// transaction it rolls back. Errors: as RecordLessons.
func (s *Service) PreviewLessons(ctx context.Context, p *accounts.Principal, classID int64, ins []LessonInput) ([]LessonResult, error) {
	return s.recordAll(ctx, p, classID, ins, false)
}

func (s *Service) recordAll(ctx context.Context, p *accounts.Principal, classID int64, ins []LessonInput, keep bool) ([]LessonResult, error) {
	if len(ins) == 0 {
		return nil, apperr.Invalid(tabular.CodeEmptyFile, "签到表中没有出勤记录")
	}
	var out []LessonResult
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		k, err := s.open(ctx, tx, p, classID)
		if err != nil {
			return err
		}
		var fields []apperr.FieldError
		for _, in := range ins {
			res, f, err := s.record(ctx, tx, p, k, in, SourceSheet)
			if err != nil {
				return err
			}
			if len(f) > 0 {
				fields = append(fields, f...)
				continue // the whole sheet is refused below
			}
			out = append(out, res)
		}
		if len(fields) > 0 {
			sortRows(fields)
			return apperr.Invalid("lesson_invalid", fmt.Sprintf("签到表有 %d 处错误，全部未保存", len(fields)), fields...)
		}
		if !keep {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// attendingByIDNumber maps the ID-number blind index of each attending
// worker of the class to their enrolment.
func attendingByIDNumber(ctx context.Context, tx bun.IDB, seats map[int64]enrolment.Seat) (map[string]int64, error) {
	var ids []int64
	for _, e := range seats {
		if e.Status.Attending() {
			ids = append(ids, e.WorkerID)
		}
	}
	idx, err := workers.NewStore(tx).IDNumberIndexes(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, e := range seats {
		if e.Status.Attending() {
			out[string(idx[e.WorkerID])] = e.ID
		}
	}
	return out, nil
}

// reader turns the rows of a sign-in sheet into lessons.
type reader struct {
	seats  map[int64]enrolment.Seat
	byIdx  map[string]int64
	cipher *pii.Cipher
}

type lessonKey struct{ date, course string }

// read groups the rows by date and course; it returns the lessons, or one
// lesson_invalid naming every bad row.
func (r reader) read(t *tabular.Table) ([]LessonInput, error) {
	var fields []apperr.FieldError
	groups := map[lessonKey]*LessonInput{}
	var order []lessonKey
	seen := map[lessonKey]map[int64]int{}
	rows := 0
	for {
		row, err := t.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		rows++
		bad := func(field, code, msg string) { fields = append(fields, rowErr(row.Num, field, code, msg)) }
		date, code := strings.TrimSpace(row.Get("date")), strings.ToUpper(strings.TrimSpace(row.Get("course_code")))
		if date == "" {
			bad("date", "required", "请填写日期")
		} else if d, ok := parseDate(strings.ReplaceAll(date, "/", "-")); ok {
			date = d.Format("2006-01-02")
		} else {
			bad("date", "invalid_date", "日期应为 YYYY-MM-DD")
		}
		if code == "" {
			bad("course_code", "required", "请填写课程代码")
		}
		h, err := catalog.ParseHours(row.Get("hours"))
		if err != nil {
			bad("hours", "invalid_hours", "学时应为数字，以 0.5 为单位")
		}
		id, ok := r.person(row)
		if !ok && row.Get("enrolment_id") == "" && row.Get("id_number") == "" {
			bad("id_number", "required", "请填写身份证号或报名编号")
		} else if !ok {
			bad(r.personField(row), "unknown_worker", "该行的学员不是本班在读学员")
		}
		if len(fields) > 0 && fields[len(fields)-1].Row == row.Num {
			continue
		}
		k := lessonKey{date, code}
		g := groups[k]
		if g == nil {
			g = &LessonInput{Row: row.Num, Date: date, CourseCode: code, Hours: h}
			groups[k], seen[k] = g, map[int64]int{}
			order = append(order, k)
		}
		if h != g.Hours {
			bad("hours", "hours_mismatch", fmt.Sprintf("同一天同一课程的学时应相同（第 %d 行为 %s 学时）", g.Row, g.Hours))
			continue
		}
		if first, dup := seen[k][id]; dup {
			bad(r.personField(row), "duplicate", fmt.Sprintf("与第 %d 行是同一学员同一课次", first))
			continue
		}
		seen[k][id] = row.Num
		g.Present = append(g.Present, id)
	}
	if rows == 0 {
		return nil, apperr.Invalid(tabular.CodeEmptyFile, "签到表中没有出勤记录")
	}
	if len(fields) > 0 {
		sortRows(fields)
		return nil, apperr.Invalid("lesson_invalid", fmt.Sprintf("签到表有 %d 处错误，全部未保存", len(fields)), fields...)
	}
	out := make([]LessonInput, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out, nil
}

// person resolves the row's 报名编号 or 身份证号 to an attending enrolment.
func (r reader) person(row tabular.Row) (int64, bool) {
	if s := row.Get("enrolment_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		e, in := r.seats[id]
		return id, err == nil && in && e.Status.Attending()
	}
	if s := row.Get("id_number"); s != "" {
		id, in := r.byIdx[string(r.cipher.Index(pii.KindIDNumber, s))]
		return id, in
	}
	return 0, false
}

func (r reader) personField(row tabular.Row) string {
	if row.Get("enrolment_id") != "" || row.Get("id_number") == "" {
		return "enrolment_id"
	}
	return "id_number"
}
