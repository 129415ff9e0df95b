// Package rosters imports the graduate rosters (花名册) colleges upload or
// push by API token: CSV or XLSX files whose rows become or update workers
// and, when a row names a training plan, enrolment requests (DESIGN §4.1,
// §5.4; issue 3).
//
// An import goes through two steps. Upload validates: every row is checked
// (ID number, duplicates, bans, phone, sex, plan code, graduation year) and
// compared with the stored worker, and the result is kept as a preview with
// field-level differences. Commit then writes the valid rows in one
// transaction with one set-based upsert, exactly once. Files over
// BackgroundRows rows are validated in the background with a progress
// figure.
//
// Plaintext ID and phone numbers are never stored: rows keep ciphertext,
// blind index and mask like workers, and the row as it came only encrypted
// (for errors.csv).
package rosters

import (
	"encoding/hex"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/workers"
)

// Statuses of an import.
const (
	StatusValidating = "validating" // rows being checked (in the background for big files)
	StatusValidated  = "validated"  // preview ready, waiting for commit
	StatusCommitting = "committing" // reserved for a commit that runs in the background
	StatusCommitted  = "committed"  // written to workers, once
	StatusFailed     = "failed"     // background validation stopped: see ErrorCode
)

// Modes of an import.
const (
	ModeUpsert  = "upsert"   // create new workers and update existing ones
	ModeAddOnly = "add_only" // create new workers; leave existing ones untouched
)

// Outcomes of a row: what committing it will do (or did).
const (
	OutcomeNew       = "new"
	OutcomeChanged   = "changed"
	OutcomeUnchanged = "unchanged"
	OutcomeInvalid   = "invalid"
	// OutcomeExists: add_only and the person is on file; the row is
	// skipped and shows the stored values, not the file's.
	OutcomeExists = "exists"
)

// Outcomes lists the outcomes of a row, for filters.
var Outcomes = []string{OutcomeNew, OutcomeChanged, OutcomeUnchanged, OutcomeExists, OutcomeInvalid}

// BackgroundRows is the size above which a file is validated in the
// background (issue 3).
const BackgroundRows = 20_000

// Import is one uploaded roster file.
type Import struct {
	bun.BaseModel `bun:"table:roster_imports,alias:ri"`

	ID                int64      `bun:"id,pk,autoincrement" json:"id"`
	CollegeOrgID      int64      `bun:"college_org_id" json:"college_org_id"`
	UploadedByUserID  int64      `bun:"uploaded_by_user_id,nullzero" json:"-"`
	UploadedByTokenID int64      `bun:"uploaded_by_token_id,nullzero" json:"-"`
	UploadedBy        string     `bun:"uploaded_by_label" json:"uploaded_by"`
	FileName          string     `bun:"file_name" json:"file_name"`
	FileSHA256        []byte     `bun:"file_sha256" json:"-"`
	FileSize          int64      `bun:"file_size" json:"file_size"`
	Format            string     `bun:"format" json:"format"`
	Encoding          string     `bun:"encoding" json:"encoding"`
	Mode              string     `bun:"mode" json:"mode"`
	Status            string     `bun:"status" json:"status"`
	ErrorCode         string     `bun:"error_code,nullzero" json:"error_code,omitempty"`
	ErrorMessage      string     `bun:"error_message,nullzero" json:"error_message,omitempty"`
	Header            []string   `bun:"header,type:jsonb" json:"-"`
	HeaderRow         int        `bun:"header_row" json:"header_row"`
	RowsTotal         int        `bun:"rows_total" json:"rows_total"`
	RowsValid         int        `bun:"rows_valid" json:"rows_valid"`
	RowsInvalid       int        `bun:"rows_invalid" json:"rows_invalid"`
	RowsNew           int        `bun:"rows_new" json:"rows_new"`
	RowsChanged       int        `bun:"rows_changed" json:"rows_changed"`
	RowsUnchanged     int        `bun:"rows_unchanged" json:"rows_unchanged"`
	RowsEnrolled      int        `bun:"rows_enrolled" json:"rows_enrolled"`
	RowsWaitlisted    int        `bun:"rows_waitlisted" json:"rows_waitlisted"`
	Progress          int        `bun:"progress" json:"progress"`
	CreatedAt         time.Time  `bun:"created_at,nullzero,default:now()" json:"created_at"`
	ValidatedAt       *time.Time `bun:"validated_at" json:"validated_at"`
	CommittedAt       *time.Time `bun:"committed_at" json:"committed_at"`
	CommittedByUserID int64      `bun:"committed_by_user_id,nullzero" json:"-"`
	CommittedBy       string     `bun:"committed_by_label,nullzero" json:"committed_by,omitempty"`

	CollegeName string `bun:"college_name,scanonly" json:"college_name,omitempty"`
}

// SHA256 is the file's SHA-256 in hex, as people compare it.
func (im *Import) SHA256() string { return hex.EncodeToString(im.FileSHA256) }

// StatusLabel is the Chinese name of the import's status.
func (im *Import) StatusLabel() string {
	switch im.Status {
	case StatusValidating:
		return "校验中"
	case StatusValidated:
		return "待提交"
	case StatusCommitting:
		return "提交中"
	case StatusCommitted:
		return "已提交"
	case StatusFailed:
		return "失败"
	}
	return im.Status
}

// ModeLabel is the Chinese name of the import's mode.
func (im *Import) ModeLabel() string {
	if im.Mode == ModeAddOnly {
		return "仅新增"
	}
	return "新增并更新"
}

// Row is one data row of an import.
type Row struct {
	bun.BaseModel `bun:"table:roster_rows,alias:rr"`

	ImportID        int64             `bun:"import_id,pk" json:"-"`
	RowNum          int               `bun:"row_num,pk" json:"row"`
	Cells           []string          `bun:"cells,type:jsonb" json:"cells"` // ID and phone cells masked
	RawEnc          []byte            `bun:"raw_enc" json:"-"`
	Name            string            `bun:"name" json:"name"`
	IDNumberEnc     []byte            `bun:"id_number_enc" json:"-"`
	IDNumberIdx     []byte            `bun:"id_number_idx" json:"-"`
	IDMask          string            `bun:"id_mask" json:"id_mask"`
	Sex             workers.Sex       `bun:"sex,nullzero" json:"sex,omitempty"`
	BirthDate       *time.Time        `bun:"birth_date,type:date" json:"-"`
	IDAreaCode      string            `bun:"id_area_code,nullzero" json:"-"`
	PhoneEnc        []byte            `bun:"phone_enc" json:"-"`
	PhoneIdx        []byte            `bun:"phone_idx" json:"-"`
	PhoneMask       string            `bun:"phone_mask" json:"phone_mask,omitempty"`
	Education       workers.Education `bun:"education,nullzero" json:"education,omitempty"`
	Major           string            `bun:"major" json:"major,omitempty"`
	GraduationYear  int               `bun:"graduation_year,nullzero" json:"graduation_year,omitempty"`
	PlanCode        string            `bun:"plan_code" json:"plan_code,omitempty"`
	Errors          []RowError        `bun:"errors,type:jsonb" json:"errors,omitempty"`
	Outcome         string            `bun:"outcome" json:"outcome"`
	Diff            map[string]Change `bun:"diff,type:jsonb" json:"diff,omitempty"`
	WorkerID        int64             `bun:"worker_id,nullzero" json:"worker_id,omitempty"` // the stored worker compared with at validation
	EnrolmentStatus string            `bun:"enrolment_status,nullzero" json:"enrolment_status,omitempty"`
}

// OutcomeLabel is the Chinese name of the row's outcome.
func (r *Row) OutcomeLabel() string {
	switch r.Outcome {
	case OutcomeNew:
		return "新增"
	case OutcomeChanged:
		return "更新"
	case OutcomeUnchanged:
		return "无变化"
	case OutcomeExists:
		return "已存在，跳过"
	case OutcomeInvalid:
		return "有错误"
	}
	return r.Outcome
}

// RowError is one problem of a row: the field, the column as the file
// names it, a stable code and a Chinese reason.
type RowError struct {
	Field   string `json:"field"`
	Column  string `json:"column"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Change is one field's stored and incoming value (masked for phones).
// Kept marks an incoming value the commit will not write: a roster never
// overwrites a phone number already stored (the worker may have set it).
type Change struct {
	Old  string `json:"old"`
	New  string `json:"new"`
	Kept bool   `json:"kept,omitempty"`
}

// fieldLabels names the fields of a row in Chinese, for diffs and errors.
var fieldLabels = map[string]string{
	"name": "姓名", "id_number": "身份证号", "sex": "性别", "phone": "手机号", "education": "学历",
	"major": "专业", "graduation_year": "毕业年份", "plan_code": "培训计划编号", "college": "院校",
}

// FieldLabel is the Chinese name of a row field.
func FieldLabel(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	return field
}

// Columns are the roster columns and the header texts accepted for each,
// the Chinese name first (it names the column in messages and the
// template).
var Columns = map[string][]string{
	"name":            {"姓名", "学生姓名", "学员姓名", "name"},
	"id_number":       {"身份证号", "身份证号码", "公民身份号码", "身份证", "证件号码", "id_number", "id_no", "idcard", "id_card"},
	"sex":             {"性别", "sex", "gender"},
	"phone":           {"手机号", "手机号码", "手机", "联系电话", "联系方式", "电话", "phone", "mobile"},
	"education":       {"学历", "文化程度", "education"},
	"major":           {"专业", "所学专业", "专业名称", "major"},
	"graduation_year": {"毕业年份", "毕业年度", "毕业时间", "毕业届别", "graduation_year", "graduation"},
	"plan_code":       {"培训计划编号", "培训计划代码", "培训计划", "计划编号", "plan_code", "plan"},
}

// templateColumns is the column order of the template and of the pages.
var templateColumns = []string{"name", "id_number", "sex", "phone", "education", "major", "graduation_year", "plan_code"}

// required columns must be in every roster.
var required = []string{"name", "id_number"}
