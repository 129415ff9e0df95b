package rosters

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tuoyu/modules/apperr"
	"tuoyu/modules/tabular"
	"tuoyu/modules/workers"
)

// Row error codes besides the workers.CodeID* codes of ValidateID and the
// name_* codes of ValidateName. They are stable: the API and tests use them.
const (
	CodeDuplicate = "duplicate_in_file"
	// CodeNotRegistrable: the person may not be registered. A college is
	// not told why (a ban is for the regulator and the person to know).
	CodeNotRegistrable = "not_registrable"
	CodeOtherCollege   = "other_college" // the person is another college's graduate
	CodePhone          = workers.CodePhoneFormat
	CodeSexMismatch    = "sex_mismatch"
	CodeSexInvalid     = "sex_invalid"
	CodeUnknownPlan    = "unknown_plan"
	CodeEducation      = "invalid_education"
	CodeMajorTooLong   = "major_too_long"
	CodeGradYear       = "invalid_graduation_year"
	CodeRequiredField  = "required"
)

// parsed is a roster row after the checks that need no database.
type parsed struct {
	Num      int
	Cells    []string // as read
	Name     string
	ID       workers.ResidentID
	IDOK     bool
	Phone    string // normalised; "" when absent
	Edu      workers.Education
	Major    string
	GradYear int
	PlanCode string
	Errors   []RowError
}

// checker checks rows one by one. It remembers the ID numbers seen, so a
// repeated ID number is reported on every repetition while the first row
// stands.
type checker struct {
	table     *tabular.Table
	now       time.Time
	planCodes map[string]bool // nil: no catalogue to check against
	seen      map[string]int  // normalised ID number → first row
}

func newChecker(t *tabular.Table, now time.Time, planCodes map[string]bool) *checker {
	return &checker{table: t, now: now, planCodes: planCodes, seen: map[string]int{}}
}

// column is how the file names a field's column, for error reports.
func (c *checker) column(field string) string {
	if col := c.table.Column(field); col != "" {
		return col
	}
	return FieldLabel(field)
}

func (c *checker) fail(p *parsed, field, code, msg string) {
	p.Errors = append(p.Errors, RowError{Field: field, Column: c.column(field), Code: code, Message: msg})
}

// failErr records the field errors of an *apperr.Error from a validator.
func (c *checker) failErr(p *parsed, field string, err error) {
	if e, ok := apperr.As(err); ok {
		if len(e.Fields) > 0 {
			for _, f := range e.Fields {
				c.fail(p, field, f.Code, f.Message)
			}
			return
		}
		c.fail(p, field, e.Code, e.Message)
		return
	}
	c.fail(p, field, "invalid", err.Error())
}

// check validates one row: every problem is reported, not just the first.
func (c *checker) check(r tabular.Row) parsed {
	p := parsed{Num: r.Num, Cells: r.Cells}

	if raw := r.Get("name"); raw == "" {
		c.fail(&p, "name", CodeRequiredField, "姓名不能为空")
	} else if name, err := workers.ValidateName(compactName(raw)); err != nil {
		c.failErr(&p, "name", err)
	} else {
		p.Name = name
	}

	// People type a leading apostrophe to keep Excel from turning the
	// number into 4.20106E+17; it is not part of the number.
	id, err := workers.ValidateID(strings.TrimPrefix(r.Get("id_number"), "'"), c.now)
	if err != nil {
		c.failErr(&p, "id_number", err)
	} else if first, dup := c.seen[id.Number]; dup {
		c.fail(&p, "id_number", CodeDuplicate, fmt.Sprintf("身份证号与第 %d 行重复（以第 %d 行为准）", first, first))
	} else {
		c.seen[id.Number] = r.Num
		p.ID, p.IDOK = id, true
	}

	if raw := r.Get("sex"); raw != "" {
		sex, ok := parseSex(raw)
		switch {
		case !ok:
			c.fail(&p, "sex", CodeSexInvalid, "性别应填写“男”或“女”")
		case p.IDOK && sex != p.ID.Sex:
			c.fail(&p, "sex", CodeSexMismatch, fmt.Sprintf("性别“%s”与身份证号（第 17 位表示%s）不符", raw, p.ID.Sex.Label()))
		}
	}

	if raw := r.Get("phone"); raw != "" {
		phone, err := workers.ValidatePhone(strings.TrimPrefix(raw, "'"))
		if err != nil {
			c.failErr(&p, "phone", err)
		} else {
			p.Phone = phone
		}
	}

	if raw := r.Get("education"); raw != "" {
		edu, ok := workers.ParseEducation(raw)
		if !ok {
			c.fail(&p, "education", CodeEducation, "学历“"+raw+"”无法识别，可填：初中、高中、中专、大专、本科、硕士、博士")
		}
		p.Edu = edu
	}

	if raw := r.Get("major"); utf8.RuneCountInString(raw) > 100 {
		c.fail(&p, "major", CodeMajorTooLong, "专业名称不超过 100 字")
	} else {
		p.Major = raw
	}

	if raw := r.Get("graduation_year"); raw != "" {
		y, ok := parseYear(raw)
		if !ok || y < 1950 || y > c.now.Year()+5 {
			c.fail(&p, "graduation_year", CodeGradYear, fmt.Sprintf("毕业年份“%s”无效，应为 1950–%d 之间的四位年份", raw, c.now.Year()+5))
		} else {
			p.GradYear = y
		}
	}

	if raw := strings.ToUpper(r.Get("plan_code")); raw != "" {
		if c.planCodes != nil && !c.planCodes[raw] {
			c.fail(&p, "plan_code", CodeUnknownPlan, "培训计划编号“"+raw+"”不存在")
		} else {
			p.PlanCode = raw
		}
	}
	return p
}

// compactName removes the spaces Chinese spreadsheets pad two-character
// names with (张　三); names in Latin script keep their inner spaces.
func compactName(s string) string {
	s = strings.ReplaceAll(s, "\u3000", " ")
	hasHan := false
	for _, r := range s {
		if r >= 0x3400 && r <= 0x9FFF || r >= 0x20000 {
			hasHan = true
			break
		}
	}
	if hasHan {
		return strings.Join(strings.Fields(s), "")
	}
	return strings.Join(strings.Fields(s), " ")
}

func parseSex(s string) (workers.Sex, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "男", "男性", "m", "male":
		return workers.SexMale, true
	case "女", "女性", "f", "female":
		return workers.SexFemale, true
	}
	return "", false
}

// yearPattern accepts what people write for a graduation year: 2026,
// 2026年, 2026届, and dates such as 2026-06, 2026/6/30 or 2026年6月.
var yearPattern = regexp.MustCompile(`^([0-9]{4})(?:\s*[年届级])?(?:[-/.年]\s*[0-9]{1,2}\s*月?(?:[-/.]\s*[0-9]{1,2}\s*日?)?)?$`)

func parseYear(s string) (int, bool) {
	m := yearPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	y, err := strconv.Atoi(m[1])
	return y, err == nil
}
