package attendance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/pii"
	"tuoyu/modules/tabular"
	"tuoyu/modules/workers"
)

// columns are the columns of an attendance upload and the header texts
// accepted for each.
var columns = map[string][]string{
	"id_number":    {"身份证号", "身份证号码", "公民身份号码", "证件号码"},
	"enrolment_id": {"报名编号", "报名号", "学籍号"},
	"name":         {"姓名"},
	"course_code":  {"课程代码", "课程编号"},
	"hours":        {"学时", "课时", "学时数"},
	"reason":       {"更正原因", "原因", "备注"},
}

// Import reads an attendance file (CSV or XLSX: 身份证号 or 报名编号,
// 课程代码, 学时, optional 更正原因) for class classID and records it like
// Record: nothing is stored when any row is bad, and every bad row is
// reported with its number, field and a Chinese reason. Errors: those of
// package tabular (file errors), Invalid (missing_columns, empty_file,
// attendance_invalid with unknown_worker, unknown_course, invalid_hours and
// the row codes of Record), NotFound (class_not_found), Conflict
// (class_not_running).
func (s *Service) Import(ctx context.Context, p *accounts.Principal, classID int64, data []byte, filename string) (Result, error) {
	t, err := tabular.Open(data, filename, tabular.Options{
		Columns: columns, Required: []string{"course_code", "hours"}, MaxRows: 20000,
	})
	if err != nil {
		return Result{}, err
	}
	defer t.Close()
	if !t.Has("id_number") && !t.Has("enrolment_id") {
		return Result{}, apperr.Invalid(tabular.CodeMissingColumns, "文件须包含“身份证号”或“报名编号”列")
	}
	courses, err := s.catalog.Courses(ctx)
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.classes.Own(ctx, tx, p, classID)
		if err != nil {
			return err
		}
		if err := classes.Attendable(c); err != nil {
			return err
		}
		seats, err := enrolment.NewStore(tx).Seats(ctx, c.ID)
		if err != nil {
			return err
		}
		byIdx, err := attendingByIDNumber(ctx, tx, seats)
		if err != nil {
			return err
		}
		rd := reader{seats: seats, byIdx: byIdx, courses: courseIDs(courses), cipher: s.cipher}
		entries, fields, err := rd.read(t)
		if err != nil {
			return err
		}
		if len(entries) == 0 && len(fields) == 0 {
			return apperr.Invalid(tabular.CodeEmptyFile, "文件中没有学时记录")
		}
		res, err = s.record(ctx, tx, p, c, seats, entries, SourceCSV)
		return mergeRowErrors(fields, err)
	})
	return res, err
}

// mergeRowErrors reports the rows that failed to parse together with those
// the checks of record refused, so one upload shows every problem.
func mergeRowErrors(fields []apperr.FieldError, err error) error {
	if len(fields) == 0 {
		return err
	}
	if e, ok := apperr.As(err); ok && e.Code == "attendance_invalid" {
		fields = append(fields, e.Fields...)
	} else if err != nil {
		return err
	}
	sortRows(fields)
	return apperr.Invalid("attendance_invalid", fmt.Sprintf("有 %d 处学时记录有误，全部未保存", len(fields)), fields...)
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

// CourseIDs maps upper-cased course codes to course IDs.
func courseIDs(cs []catalog.Course) map[string]int64 {
	out := make(map[string]int64, len(cs))
	for _, co := range cs {
		out[strings.ToUpper(co.Code)] = co.ID
	}
	return out
}

// reader turns the rows of an attendance file into entries.
type reader struct {
	seats   map[int64]enrolment.Seat
	byIdx   map[string]int64
	courses map[string]int64
	cipher  *pii.Cipher
}

// read returns the entries of the good rows and a field error for each
// problem of the others.
func (r reader) read(t *tabular.Table) ([]Entry, []apperr.FieldError, error) {
	var entries []Entry
	var fields []apperr.FieldError
	for {
		row, err := t.Next()
		if errors.Is(err, io.EOF) {
			return entries, fields, nil
		}
		if err != nil {
			return nil, nil, err
		}
		en, errs := r.entry(row)
		if len(errs) == 0 {
			entries = append(entries, en)
		}
		fields = append(fields, errs...)
	}
}

// entry reads one row.
func (r reader) entry(row tabular.Row) (Entry, []apperr.FieldError) {
	en := Entry{Row: row.Num, Reason: row.Get("reason")}
	var fields []apperr.FieldError
	switch {
	case row.Get("enrolment_id") != "":
		id, err := strconv.ParseInt(row.Get("enrolment_id"), 10, 64)
		if _, in := r.seats[id]; err != nil || !in {
			fields = append(fields, rowErr(row.Num, "enrolment_id", "unknown_worker", "报名编号不属于本班"))
		}
		en.EnrolmentID = id
	case row.Get("id_number") != "":
		id, in := r.byIdx[string(r.cipher.Index(pii.KindIDNumber, row.Get("id_number")))]
		if !in {
			fields = append(fields, rowErr(row.Num, "id_number", "unknown_worker", "身份证号不属于本班在读学员"))
		}
		en.EnrolmentID = id
	default:
		fields = append(fields, rowErr(row.Num, "id_number", "required", "请填写身份证号或报名编号"))
	}
	if id, in := r.courses[strings.ToUpper(row.Get("course_code"))]; in {
		en.CourseID = id
	} else {
		fields = append(fields, rowErr(row.Num, "course_code", "unknown_course", "课程代码 "+row.Get("course_code")+" 不存在"))
	}
	h, err := catalog.ParseHours(row.Get("hours"))
	if err != nil {
		fields = append(fields, rowErr(row.Num, "hours", "invalid_hours", "学时应为数字，最多一位小数"))
	}
	en.Hours = h
	return en, fields
}
