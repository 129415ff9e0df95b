// Package orgs owns regions (GB/T 2260) and the organisations users belong
// to: colleges, training providers, childcare institutions, HR bureaus,
// regulators and the platform administrator.
package orgs

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
)

// Organisation kinds.
const (
	KindCollege     = "college"
	KindProvider    = "provider"
	KindInstitution = "institution"
	KindHRBureau    = "hr_bureau"
	KindRegulator   = "regulator"
	KindAdmin       = "admin"
)

// Kinds lists the organisation kinds with their Chinese names.
var Kinds = []struct{ Code, Label string }{
	{KindCollege, "院校"}, {KindProvider, "培训/评价机构"}, {KindInstitution, "托育机构"},
	{KindHRBureau, "人社局"}, {KindRegulator, "卫健委"}, {KindAdmin, "平台管理"},
}

// KindLabel is the Chinese name of an organisation kind.
func KindLabel(kind string) string {
	for _, k := range Kinds {
		if k.Code == kind {
			return k.Label
		}
	}
	return kind
}

// Region is a GB/T 2260 administrative division.
type Region struct {
	bun.BaseModel `bun:"table:regions"`

	Code       string `bun:"code,pk" json:"code"`
	Name       string `bun:"name" json:"name"`
	ParentCode string `bun:"parent_code,nullzero" json:"parent_code,omitempty"`
	Level      int    `bun:"level" json:"level"`
}

// Organisation is any organisation that has users.
type Organisation struct {
	bun.BaseModel `bun:"table:organisations"`

	ID         int64     `bun:"id,pk,autoincrement" json:"id"`
	Code       string    `bun:"code" json:"code"`
	Name       string    `bun:"name" json:"name"`
	Kind       string    `bun:"kind" json:"kind"`
	RegionCode string    `bun:"region_code" json:"region_code"`
	USCC       string    `bun:"uscc,nullzero" json:"uscc,omitempty"`
	SiteCode   string    `bun:"site_code,nullzero" json:"site_code,omitempty"`
	Active     bool      `bun:"active" json:"active"`
	CreatedAt  time.Time `bun:"created_at,nullzero,default:now()" json:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at,nullzero,default:now()" json:"updated_at"`
	RegionName string    `bun:"region_name,scanonly" json:"region_name,omitempty"`
}

// Input is what an admin enters for an organisation.
type Input struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	RegionCode string `json:"region_code"`
	USCC       string `json:"uscc"`
	SiteCode   string `json:"site_code"`
}

// Normalize trims the input and upper-cases the credit code.
func (in *Input) Normalize() {
	in.Code = strings.ToLower(strings.TrimSpace(in.Code))
	in.Name = strings.TrimSpace(in.Name)
	in.Kind = strings.TrimSpace(in.Kind)
	in.RegionCode = strings.TrimSpace(in.RegionCode)
	in.USCC = strings.ToUpper(strings.TrimSpace(in.USCC))
	in.SiteCode = strings.TrimSpace(in.SiteCode)
}

// Validate checks what can be checked without the database. Errors: Invalid.
func (in Input) Validate() error {
	var fs []apperr.FieldError
	if len(in.Code) < 2 || len(in.Code) > 40 || strings.Trim(in.Code, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		fs = append(fs, apperr.FieldError{Field: "code", Code: "invalid_code", Message: "机构编码为 2–40 位小写字母、数字、_ 或 -"})
	}
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 {
		fs = append(fs, apperr.FieldError{Field: "name", Code: "required", Message: "请填写机构名称（不超过 100 字）"})
	}
	if KindLabel(in.Kind) == in.Kind {
		fs = append(fs, apperr.FieldError{Field: "kind", Code: "invalid_kind", Message: "未知机构类型"})
	}
	if in.USCC != "" && !ValidUSCC(in.USCC) {
		fs = append(fs, apperr.FieldError{Field: "uscc", Code: "invalid_uscc", Message: "统一社会信用代码校验位不正确（GB 32100）"})
	}
	if in.SiteCode != "" && (len(in.SiteCode) != 6 || strings.Trim(in.SiteCode, "0123456789") != "") {
		fs = append(fs, apperr.FieldError{Field: "site_code", Code: "invalid_site_code", Message: "评价站点代码为 6 位数字"})
	}
	if len(fs) > 0 {
		return apperr.Invalid("invalid_organisation", "机构信息有误", fs...)
	}
	return nil
}
