package payouts

import (
	"errors"
	"io"
	"strconv"
	"strings"

	"tuoyu/modules/apperr"
	"tuoyu/modules/pii"
	"tuoyu/modules/tabular"
)

// ReturnLine is one payment the bank could not make, as its return file
// states it. A line names the person by ID number or by account (or both).
type ReturnLine struct {
	Row        int
	IDNumber   string
	Account    string
	AmountYuan int64
	Reason     string
}

// returnColumns are the header texts accepted in a bank's return file.
var returnColumns = map[string][]string{
	"id_number": {"身份证号", "身份证号码", "证件号码", "公民身份号码", "证件号"},
	"account":   {"账号", "社保卡/银行账号", "银行账号", "社保卡号", "卡号", "收款账号"},
	"amount":    {"金额", "金额(元)", "金额元", "退回金额", "应付金额"},
	"reason":    {"失败原因", "退回原因", "原因", "失败说明"},
	"name":      {"姓名", "户名", "收款人"},
}

// Return file error codes, per row and field.
const (
	CodeNoPerson       = "person_required"
	CodeAmountRequired = "amount_required"
	CodeAmountInvalid  = "amount_invalid"
	CodeAmountNegative = "negative_amount"
	CodeAmountFraction = "amount_not_whole_yuan"
	CodeReasonRequired = "reason_required"
	CodeReasonTooLong  = "reason_too_long"
	CodeUnknownPerson  = "unknown_person"
	CodeNotInBatch     = "not_in_batch"
	CodeAmountMismatch = "amount_mismatch"
	CodeDuplicateLine  = "duplicate_return"
)

// maxReturnRows bounds a return file: a batch has at most a few tens of
// thousands of payments.
const maxReturnRows = 50_000

// ParseReturns reads the bank's return file (CSV or XLSX). Every row must
// name a person (身份证号 or 账号), a whole positive amount in yuan and a
// reason. All faulty rows are reported together in one 422
// (return_file_invalid) with row and field, so nothing is stored from a file
// with an error. A totals row (合计) is skipped. Errors of the file itself
// come from tabular.Open.
func ParseReturns(data []byte, name string) ([]ReturnLine, error) {
	t, err := tabular.Open(data, name, tabular.Options{Columns: returnColumns, Required: []string{"amount", "reason"},
		MinHeaderMatches: 2, MaxRows: maxReturnRows})
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if !t.Has("id_number") && !t.Has("account") {
		return nil, apperr.Invalid("missing_columns", "退回文件须有“身份证号”或“账号”列",
			apperr.FieldError{Field: "身份证号", Row: t.HeaderRow, Code: "missing_column", Message: "缺少列：身份证号 或 账号"})
	}
	var lines []ReturnLine
	var errs []apperr.FieldError
	for {
		row, err := t.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if isTotalsRow(row.Cells) {
			continue
		}
		l := ReturnLine{Row: row.Num, IDNumber: pii.Normalize(pii.KindIDNumber, row.Get("id_number")),
			Account: pii.Normalize(pii.KindBank, row.Get("account")), Reason: tabular.TrimCell(row.Get("reason"))}
		bad := func(field, code, msg string) {
			errs = append(errs, apperr.FieldError{Field: field, Row: row.Num, Code: code, Message: "第 " + strconv.Itoa(row.Num) + " 行：" + msg})
		}
		if l.IDNumber == "" && l.Account == "" {
			bad("身份证号", CodeNoPerson, "未填写身份证号或账号")
		}
		amount, code, msg := parseYuan(row.Get("amount"))
		if code != "" {
			bad("金额", code, msg)
		}
		l.AmountYuan = amount
		switch n := len([]rune(l.Reason)); {
		case n == 0:
			bad("失败原因", CodeReasonRequired, "未填写失败原因")
		case n > 200:
			bad("失败原因", CodeReasonTooLong, "失败原因不超过 200 字")
		}
		lines = append(lines, l)
	}
	if len(errs) > 0 {
		return nil, returnFileInvalid(errs)
	}
	return lines, nil
}

func returnFileInvalid(errs []apperr.FieldError) *apperr.Error {
	return apperr.Invalid("return_file_invalid", "退回文件有 "+strconv.Itoa(len(errs))+" 处错误，未做任何处理，请更正后重新上传", errs...)
}

// isTotalsRow reports whether a row is a totals row (its first non-empty
// cell is 合计), as in the bank file this system writes.
func isTotalsRow(cells []string) bool {
	for _, c := range cells {
		if c = tabular.TrimCell(c); c != "" {
			return c == "合计" || c == "总计"
		}
	}
	return false
}

// parseYuan reads a whole, positive amount of yuan: "1500", "1,500",
// "1500.00" and "¥1500" are the same; a fraction of a yuan, zero, a negative
// amount and anything else are refused with a code and a message.
func parseYuan(raw string) (int64, string, string) {
	s := strings.NewReplacer(",", "", "，", "", "¥", "", "￥", "", "元", "", " ", "").Replace(tabular.TrimCell(raw))
	if s == "" {
		return 0, CodeAmountRequired, "未填写金额"
	}
	neg := false
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "−") {
		neg = true
	}
	if whole, frac, ok := strings.Cut(s, "."); ok {
		if strings.Trim(frac, "0") != "" {
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				if neg {
					return 0, CodeAmountNegative, "金额不能为负数"
				}
				return 0, CodeAmountFraction, "金额须为整数元"
			}
			return 0, CodeAmountInvalid, "金额不是数字：" + raw
		}
		s = whole
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "−"), 10, 64)
	if err != nil {
		return 0, CodeAmountInvalid, "金额不是数字：" + raw
	}
	switch {
	case neg || n < 0:
		return 0, CodeAmountNegative, "金额不能为负数"
	case n == 0:
		return 0, CodeAmountInvalid, "金额须大于 0"
	case n > 1_000_000:
		return 0, CodeAmountInvalid, "金额过大"
	}
	return n, "", ""
}
