package enrolment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/catalog"
	"tuoyu/modules/pii"
	"tuoyu/modules/tabular"
)

// AttendanceEntry sets the hours of one enrolment in one course to a new
// total. Changing hours already recorded is a correction and needs a
// reason. Row is the form line or file row, for error reports.
type AttendanceEntry struct {
	Row         int
	EnrolmentID int64
	CourseID    int64
	Hours       catalog.Hours
	Reason      string
}

// Attendance sources, kept with every change.
const (
	AttendanceForm = "form"
	AttendanceCSV  = "csv"
)

// AttendanceResult says what a recording changed.
type AttendanceResult struct {
	Changed   int     `json:"changed"`   // rows written (new or corrected)
	Unchanged int     `json:"unchanged"` // entries equal to what was stored
	Completed []int64 `json:"completed"` // enrolments that became complete
	Reopened  []int64 `json:"reopened"`  // enrolments no longer complete
}

// attendable refuses hours for a class whose training has not begun (draft,
// open: nobody can have attended yet, and the roster may still change) or
// was cancelled.
func attendable(c Class) error {
	if c.State == StateRunning || c.State == StateCompleted {
		return nil
	}
	return apperr.Conflict("class_not_running",
		fmt.Sprintf("培训班当前状态为“%s”，开始培训后才能登记学时", c.State.Label())).With("state", string(c.State))
}

func rowErr(row int, field, code, msg string) apperr.FieldError {
	return apperr.FieldError{Row: row, Field: field, Code: code, Message: msg}
}

// RecordAttendance stores entries for class classID, all or nothing, and
// recomputes completion of every enrolment touched in the same
// transaction. Only the class's provider (or an admin) may record, and only
// once the class is running or completed. Errors: apperr.NotFound
// (class_not_found), apperr.Conflict (class_not_running), apperr.Invalid
// (attendance_invalid with one error per bad row: not_enrolled,
// unknown_course, negative, hours_over_limit, reason_required, duplicate).
func (s *Service) RecordAttendance(ctx context.Context, p *accounts.Principal, classID int64, entries []AttendanceEntry, source string) (AttendanceResult, error) {
	var res AttendanceResult
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.ownClass(ctx, tx, p, classID)
		if err != nil {
			return err
		}
		if err := attendable(c); err != nil {
			return err
		}
		res, err = s.record(ctx, tx, p, c, entries, source)
		return err
	})
	return res, err
}

type classEnrolment struct {
	ID            int64  `bun:"id"`
	WorkerID      int64  `bun:"worker_id"`
	PlanVersionID int64  `bun:"plan_version_id"`
	Status        Status `bun:"status"`
	IDNumberIdx   []byte `bun:"id_number_idx"`
}

// classEnrolments loads every enrolment of a class with the worker's ID
// number index, in one query.
func classEnrolments(ctx context.Context, idb bun.IDB, classID int64) (map[int64]classEnrolment, error) {
	var es []classEnrolment
	err := idb.NewSelect().TableExpr("enrolments AS e").
		ColumnExpr("e.id, e.worker_id, e.plan_version_id, e.status, w.id_number_idx").
		Join("JOIN workers AS w ON w.id = e.worker_id").
		Where("e.class_id = ?", classID).Scan(ctx, &es)
	if err != nil {
		return nil, fmt.Errorf("enrolments of class %d: %w", classID, err)
	}
	out := make(map[int64]classEnrolment, len(es))
	for _, e := range es {
		out[e.ID] = e
	}
	return out, nil
}

type storedHours struct {
	ID          int64         `bun:"id"`
	EnrolmentID int64         `bun:"enrolment_id"`
	CourseID    int64         `bun:"course_id"`
	Hours       catalog.Hours `bun:"hours"`
}

type hoursKey struct{ enrolment, course int64 }

// hoursOf loads the attendance of the given enrolments, in one query.
func hoursOf(ctx context.Context, idb bun.IDB, enrolmentIDs []int64) (map[hoursKey]storedHours, error) {
	out := map[hoursKey]storedHours{}
	if len(enrolmentIDs) == 0 {
		return out, nil
	}
	var rows []storedHours
	err := idb.NewSelect().Table("attendance").Column("id", "enrolment_id", "course_id", "hours").
		Where("enrolment_id IN (?)", bun.List(enrolmentIDs)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("attendance: %w", err)
	}
	for _, r := range rows {
		out[hoursKey{r.EnrolmentID, r.CourseID}] = r
	}
	return out, nil
}

func (s *Service) record(ctx context.Context, tx bun.Tx, p *accounts.Principal, c Class, entries []AttendanceEntry, source string) (AttendanceResult, error) {
	var res AttendanceResult
	if len(entries) == 0 {
		return res, apperr.Invalid("attendance_invalid", "没有要登记的学时")
	}
	ens, err := classEnrolments(ctx, tx, c.ID)
	if err != nil {
		return res, err
	}
	versionIDs := map[int64]bool{}
	var enIDs []int64
	for _, e := range ens {
		versionIDs[e.PlanVersionID] = true
		enIDs = append(enIDs, e.ID)
	}
	versions, err := s.catalog.Versions(ctx, tx, keys(versionIDs))
	if err != nil {
		return res, err
	}
	stored, err := hoursOf(ctx, tx, enIDs)
	if err != nil {
		return res, err
	}

	var fields []apperr.FieldError
	seen := map[hoursKey]int{}
	type write struct {
		AttendanceEntry
		old *catalog.Hours
	}
	var writes []write
	for _, en := range entries {
		e, ok := ens[en.EnrolmentID]
		if !ok || (e.Status != StatusEnrolled && e.Status != StatusCompleted) {
			fields = append(fields, rowErr(en.Row, "enrolment_id", "not_enrolled", "该学员不在本班（或处于候补、已退出状态）"))
			continue
		}
		var course *catalog.PlanCourse
		for i, pc := range versions[e.PlanVersionID].Courses {
			if pc.CourseID == en.CourseID {
				course = &versions[e.PlanVersionID].Courses[i]
			}
		}
		if course == nil {
			fields = append(fields, rowErr(en.Row, "course", "unknown_course", "该课程不在本班培训计划中"))
			continue
		}
		switch {
		case en.Hours < 0:
			fields = append(fields, rowErr(en.Row, "hours", "negative", "学时不能为负数"))
			continue
		case en.Hours > course.Max:
			fields = append(fields, rowErr(en.Row, "hours", "hours_over_limit",
				fmt.Sprintf("学时 %s 超过课程《%s》的总学时 %s", en.Hours, course.Title, course.Max)))
			continue
		}
		k := hoursKey{en.EnrolmentID, en.CourseID}
		if first, dup := seen[k]; dup {
			fields = append(fields, rowErr(en.Row, "course", "duplicate", fmt.Sprintf("与第 %d 行重复（同一学员同一课程）", first)))
			continue
		}
		seen[k] = en.Row
		old, had := stored[k]
		if had && old.Hours == en.Hours {
			res.Unchanged++
			continue
		}
		en.Reason = strings.TrimSpace(en.Reason)
		if had && en.Reason == "" {
			fields = append(fields, rowErr(en.Row, "reason", "reason_required",
				fmt.Sprintf("已登记 %s 学时，更正为 %s 须填写更正原因", old.Hours, en.Hours)))
			continue
		}
		w := write{AttendanceEntry: en}
		if had {
			h := old.Hours
			w.old = &h
		}
		writes = append(writes, w)
	}
	if len(fields) > 0 {
		sort.SliceStable(fields, func(i, j int) bool { return fields[i].Row < fields[j].Row })
		return AttendanceResult{}, apperr.Invalid("attendance_invalid",
			fmt.Sprintf("有 %d 行学时记录有误，全部未保存", len(fields)), fields...)
	}
	if len(writes) == 0 {
		return res, nil
	}

	type attRow struct {
		bun.BaseModel `bun:"table:attendance"`
		ID            int64         `bun:"id,pk,autoincrement"`
		EnrolmentID   int64         `bun:"enrolment_id"`
		CourseID      int64         `bun:"course_id"`
		Hours         catalog.Hours `bun:"hours,type:numeric(5,1)"`
		RecordedBy    int64         `bun:"recorded_by,nullzero"`
	}
	rows := make([]attRow, 0, len(writes))
	for _, w := range writes {
		rows = append(rows, attRow{EnrolmentID: w.EnrolmentID, CourseID: w.CourseID, Hours: w.Hours, RecordedBy: p.UserID})
	}
	_, err = tx.NewInsert().Model(&rows).
		On("CONFLICT (enrolment_id, course_id) DO UPDATE").
		Set("hours = EXCLUDED.hours, recorded_by = EXCLUDED.recorded_by, updated_at = now()").
		Returning("id").Exec(ctx)
	if err != nil {
		return AttendanceResult{}, fmt.Errorf("store attendance of class %d: %w", c.ID, translate(err))
	}
	type changeRow struct {
		bun.BaseModel `bun:"table:attendance_changes"`
		AttendanceID  int64          `bun:"attendance_id"`
		OldHours      *catalog.Hours `bun:"old_hours,type:numeric(5,1)"`
		NewHours      catalog.Hours  `bun:"new_hours,type:numeric(5,1)"`
		Reason        string         `bun:"reason"`
		Source        string         `bun:"source"`
		ChangedBy     int64          `bun:"changed_by,nullzero"`
	}
	changes := make([]changeRow, 0, len(writes))
	touched := map[int64]bool{}
	var corrections []map[string]any
	for i, w := range writes {
		changes = append(changes, changeRow{AttendanceID: rows[i].ID, OldHours: w.old, NewHours: w.Hours,
			Reason: w.Reason, Source: source, ChangedBy: p.UserID})
		touched[w.EnrolmentID] = true
		if w.old != nil {
			corrections = append(corrections, map[string]any{"enrolment_id": w.EnrolmentID, "course_id": w.CourseID,
				"from": w.old.String(), "to": w.Hours.String(), "reason": w.Reason})
		}
	}
	if _, err := tx.NewInsert().Model(&changes).Exec(ctx); err != nil {
		return AttendanceResult{}, fmt.Errorf("record attendance changes: %w", err)
	}
	res.Changed = len(writes)
	res.Completed, res.Reopened, err = s.recompute(ctx, tx, keys(touched), ens, versions)
	if err != nil {
		return AttendanceResult{}, err
	}
	return res, audit.Record(ctx, tx, audit.Event{
		ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "attendance.record", TargetType: "class",
		TargetID: strconv.FormatInt(c.ID, 10),
		Summary: map[string]any{"source": source, "changed": res.Changed, "corrections": corrections,
			"completed": res.Completed, "reopened": res.Reopened},
	})
}

// recompute decides completion of the given enrolments from their stored
// hours against their own plan versions and writes the status changes:
// enrolled → completed (dated today) when complete, completed → enrolled
// when a correction takes the hours away.
func (s *Service) recompute(ctx context.Context, tx bun.Tx, ids []int64, ens map[int64]classEnrolment, versions map[int64]catalog.PlanVersion) (completed, reopened []int64, err error) {
	stored, err := hoursOf(ctx, tx, ids)
	if err != nil {
		return nil, nil, err
	}
	byEnrolment := map[int64]map[int64]catalog.Hours{}
	for k, h := range stored {
		if byEnrolment[k.enrolment] == nil {
			byEnrolment[k.enrolment] = map[int64]catalog.Hours{}
		}
		byEnrolment[k.enrolment][k.course] = h.Hours
	}
	for _, id := range ids {
		e := ens[id]
		done := Complete(versions[e.PlanVersionID], byEnrolment[id]).Complete
		switch {
		case done && e.Status == StatusEnrolled:
			completed = append(completed, id)
		case !done && e.Status == StatusCompleted:
			reopened = append(reopened, id)
		}
	}
	if len(completed) > 0 {
		_, err = tx.NewUpdate().Table("enrolments").Set("status = 'completed', completed_on = ?, updated_at = now()", s.today()).
			Where("id IN (?)", bun.List(completed)).Exec(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("mark enrolments completed: %w", err)
		}
	}
	if len(reopened) > 0 {
		_, err = tx.NewUpdate().Table("enrolments").Set("status = 'enrolled', completed_on = NULL, updated_at = now()").
			Where("id IN (?)", bun.List(reopened)).Exec(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("reopen enrolments: %w", err)
		}
	}
	return completed, reopened, nil
}

// attendanceColumns are the columns of an attendance upload and the header
// texts accepted for each.
var attendanceColumns = map[string][]string{
	"id_number":    {"身份证号", "身份证号码", "公民身份号码", "证件号码"},
	"enrolment_id": {"报名编号", "报名号", "学籍号"},
	"name":         {"姓名"},
	"course_code":  {"课程代码", "课程编号"},
	"hours":        {"学时", "课时", "学时数"},
	"reason":       {"更正原因", "原因", "备注"},
}

// ImportAttendance reads an attendance file (CSV or XLSX: 身份证号 or 报名编号,
// 课程代码, 学时, optional 更正原因) for class classID and records it like
// RecordAttendance: nothing is stored when any row is bad, and every bad row
// is reported with its number, field and a Chinese reason (unknown_worker,
// unknown_course, invalid_hours, hours_over_limit, negative, …). File
// errors are those of package tabular.
func (s *Service) ImportAttendance(ctx context.Context, p *accounts.Principal, classID int64, data []byte, filename string) (AttendanceResult, error) {
	t, err := tabular.Open(data, filename, tabular.Options{
		Columns: attendanceColumns, Required: []string{"course_code", "hours"}, MaxRows: 20000,
	})
	if err != nil {
		return AttendanceResult{}, err
	}
	defer t.Close()
	if !t.Has("id_number") && !t.Has("enrolment_id") {
		return AttendanceResult{}, apperr.Invalid(tabular.CodeMissingColumns, "文件须包含“身份证号”或“报名编号”列")
	}
	var res AttendanceResult
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.ownClass(ctx, tx, p, classID)
		if err != nil {
			return err
		}
		if err := attendable(c); err != nil {
			return err
		}
		ens, err := classEnrolments(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		byIdx := map[string]int64{}
		for _, e := range ens {
			if e.Status == StatusEnrolled || e.Status == StatusCompleted {
				byIdx[string(e.IDNumberIdx)] = e.ID
			}
		}
		var courses []struct {
			ID   int64  `bun:"id"`
			Code string `bun:"code"`
		}
		if err := tx.NewSelect().Table("courses").Column("id", "code").Scan(ctx, &courses); err != nil {
			return fmt.Errorf("course codes: %w", err)
		}
		courseByCode := map[string]int64{}
		for _, co := range courses {
			courseByCode[strings.ToUpper(co.Code)] = co.ID
		}

		var entries []AttendanceEntry
		var fields []apperr.FieldError
		for {
			row, err := t.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			en := AttendanceEntry{Row: row.Num, Reason: row.Get("reason")}
			ok := true
			switch {
			case row.Get("enrolment_id") != "":
				id, err := strconv.ParseInt(row.Get("enrolment_id"), 10, 64)
				if _, in := ens[id]; err != nil || !in {
					fields = append(fields, rowErr(row.Num, "enrolment_id", "unknown_worker", "报名编号不属于本班"))
					ok = false
				}
				en.EnrolmentID = id
			case row.Get("id_number") != "":
				idx := s.cipher.Index(pii.KindIDNumber, row.Get("id_number"))
				id, in := byIdx[string(idx)]
				if !in {
					fields = append(fields, rowErr(row.Num, "id_number", "unknown_worker", "身份证号不属于本班在读学员"))
					ok = false
				}
				en.EnrolmentID = id
			default:
				fields = append(fields, rowErr(row.Num, "id_number", "required", "请填写身份证号或报名编号"))
				ok = false
			}
			code := strings.ToUpper(row.Get("course_code"))
			if id, in := courseByCode[code]; in {
				en.CourseID = id
			} else {
				fields = append(fields, rowErr(row.Num, "course_code", "unknown_course", "课程代码 "+row.Get("course_code")+" 不存在"))
				ok = false
			}
			h, err := catalog.ParseHours(row.Get("hours"))
			if err != nil {
				fields = append(fields, rowErr(row.Num, "hours", "invalid_hours", "学时应为数字，最多一位小数"))
				ok = false
			}
			en.Hours = h
			if ok {
				entries = append(entries, en)
			}
		}
		if len(entries) == 0 && len(fields) == 0 {
			return apperr.Invalid(tabular.CodeEmptyFile, "文件中没有学时记录")
		}
		res, err = s.record(ctx, tx, p, c, entries, AttendanceCSV)
		if len(fields) > 0 {
			// Report the rows that failed to parse together with those the
			// checks refused, so one upload shows every problem.
			if e, ok := apperr.As(err); ok && e.Code == "attendance_invalid" {
				fields = append(fields, e.Fields...)
			} else if err != nil {
				return err
			}
			sort.SliceStable(fields, func(i, j int) bool { return fields[i].Row < fields[j].Row })
			return apperr.Invalid("attendance_invalid", fmt.Sprintf("有 %d 处学时记录有误，全部未保存", len(fields)), fields...)
		}
		return err
	})
	return res, err
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
