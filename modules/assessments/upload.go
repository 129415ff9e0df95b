package assessments

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/pii"
	"tuoyu/modules/tabular"
)

// Columns of a results file: 身份证号 or 报名编号 identifies the candidate.
var resultColumns = tabular.Options{
	Columns: map[string][]string{
		"id_number":    {"身份证号", "身份证号码", "公民身份号码", "id_number"},
		"enrolment_id": {"报名编号", "报名号", "enrolment_id"},
		"score":        {"成绩", "分数", "score"},
		"absent":       {"缺考", "absent"},
	},
	MaxBytes: 5 << 20,
	MaxRows:  5000,
}

// ParseResults reads a results file (CSV or XLSX through the shared reader)
// into result rows numbered as the spreadsheet shows them. A row whose
// candidate cannot be identified is a row error; nothing is stored.
// Errors: the reader's (file_too_large, unsupported_file_type, …),
// apperr.Invalid (missing_columns, invalid_results).
func (s *Service) ParseResults(ctx context.Context, p *accounts.Principal, sittingID int64, data []byte, name string) ([]ResultInput, error) {
	sit, err := s.Sitting(ctx, p, sittingID)
	if err != nil {
		return nil, err
	}
	t, err := tabular.Open(data, name, resultColumns)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if !t.Has("id_number") && !t.Has("enrolment_id") {
		return nil, apperr.Invalid(tabular.CodeMissingColumns, "文件须有“身份证号”或“报名编号”列",
			fieldErr("file", tabular.CodeMissingColumns, "文件须有“身份证号”或“报名编号”列"))
	}
	if !t.Has("score") {
		return nil, apperr.Invalid(tabular.CodeMissingColumns, "文件须有“成绩”列", fieldErr("file", tabular.CodeMissingColumns, "文件须有“成绩”列"))
	}
	rows, err := t.ReadAll()
	if err != nil {
		return nil, err
	}
	var fields []apperr.FieldError
	idx := map[int][]byte{}
	var lookups [][]byte
	for _, r := range rows {
		if id := strings.ToUpper(strings.TrimSpace(r.Get("id_number"))); id != "" && strings.TrimSpace(r.Get("enrolment_id")) == "" {
			ix := s.cipher.Index(pii.KindIDNumber, id)
			idx[r.Num] = ix
			lookups = append(lookups, ix)
		}
	}
	byIdx, err := enrolmentsByIDIndex(ctx, s.db, sit.ClassID, lookups)
	if err != nil {
		return nil, err
	}
	out := make([]ResultInput, 0, len(rows))
	for _, r := range rows {
		in := ResultInput{Row: r.Num, ScoreText: r.Get("score")}
		switch raw := strings.TrimSpace(r.Get("enrolment_id")); {
		case raw != "":
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n <= 0 {
				fields = append(fields, rowErr(r.Num, "enrolment_id", "invalid_enrolment_id", "报名编号应为正整数"))
				continue
			}
			in.EnrolmentID = n
		case idx[r.Num] != nil:
			n, ok := byIdx[string(idx[r.Num])]
			if !ok {
				fields = append(fields, rowErr(r.Num, "id_number", "not_candidate", "该身份证号不是本班学员"))
				continue
			}
			in.EnrolmentID = n
		default:
			fields = append(fields, rowErr(r.Num, "id_number", "required", "请填写身份证号或报名编号"))
			continue
		}
		switch a := strings.TrimSpace(r.Get("absent")); a {
		case "", "否", "0", "N", "n", "false":
		case "是", "1", "Y", "y", "true", "缺考", "√":
			in.Absent = true
		default:
			fields = append(fields, rowErr(r.Num, "absent", "invalid_absent", fmt.Sprintf("缺考一栏填“是”或留空，不能是“%s”", a)))
			continue
		}
		out = append(out, in)
	}
	if len(fields) > 0 {
		return nil, apperr.Invalid("invalid_results", "文件中有错误的行，未保存任何成绩", fields...)
	}
	if len(out) == 0 {
		return nil, apperr.Invalid("no_results", "文件中没有成绩", fieldErr("file", "empty", "文件中没有成绩"))
	}
	return out, nil
}

// errDryRun rolls a preview's transaction back.
var errDryRun = errors.New("dry run")

// PreviewResults runs every check of RecordResults on rows and stores
// nothing: the upload page shows the outcome before the commit.
func (s *Service) PreviewResults(ctx context.Context, p *accounts.Principal, id int64, rows []ResultInput) (Recorded, error) {
	out, err := s.record(ctx, p, id, rows, true)
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return out, err
}
