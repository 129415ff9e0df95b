package institutions

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/orgs"
)

// NormalizeUSCC trims a credit code and upper-cases it, as people type it.
func NormalizeUSCC(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// ValidUSCC reports whether s is a unified social credit code: the GB 32100
// check character (orgs.ValidUSCC) and digits for the region code at
// positions 3–8, which the table's constraint also demands.
func ValidUSCC(s string) bool {
	if !orgs.ValidUSCC(s) {
		return false
	}
	for i := 2; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Service is the institution registry's use cases.
type Service struct {
	db  *bun.DB
	now func() time.Time
}

// NewService returns the institutions service.
func NewService(db *bun.DB, now func() time.Time) *Service {
	return &Service{db: db, now: now}
}

// Input is an institution as a regulator enters it. Dates are YYYY-MM-DD or
// empty.
type Input struct {
	USCC           string
	Name           string
	Kind           string
	RegionCode     string
	Address        string
	Places         int
	FilingStatus   string
	FiledOn        string
	RevokedOn      string
	OrganisationID int64
}

// keepers may change the registry.
var keepers = []accounts.Role{accounts.RoleRegulator, accounts.RoleAdmin}

func notFound() *apperr.Error {
	return apperr.NotFound("institution_not_found", "托育机构不存在")
}

// validate checks in and returns the institution it describes. Errors:
// Invalid validation_failed with one error per field.
func validate(p *accounts.Principal, in Input, today time.Time) (Institution, error) {
	var fields []apperr.FieldError
	bad := func(field, code, msg string) {
		fields = append(fields, apperr.FieldError{Field: field, Code: code, Message: msg})
	}
	n := Institution{
		USCC:         NormalizeUSCC(in.USCC),
		Name:         strings.TrimSpace(in.Name),
		Kind:         Kind(in.Kind),
		RegionCode:   strings.TrimSpace(in.RegionCode),
		Address:      strings.TrimSpace(in.Address),
		Places:       in.Places,
		FilingStatus: FilingStatus(in.FilingStatus),
	}
	if n.FilingStatus == "" {
		n.FilingStatus = FilingUnfiled
	}
	switch {
	case n.USCC == "":
		bad("uscc", "required", "请填写统一社会信用代码")
	case !ValidUSCC(n.USCC):
		bad("uscc", "invalid_uscc", "统一社会信用代码格式或校验位不正确")
	}
	if n.Name == "" || utf8.RuneCountInString(n.Name) > 100 {
		bad("name", "invalid_name", "机构名称为 1–100 个字")
	}
	if !n.Kind.Valid() {
		bad("kind", "invalid_kind", "机构性质须为公办、民办非营利性或民办营利性")
	}
	if len(n.RegionCode) != 6 {
		bad("region_code", "invalid_region", "请选择所在行政区划")
	} else if !p.Scope().CoversRegion(n.RegionCode) {
		bad("region_code", "region_out_of_scope", "所在地区不在您的管辖范围内")
	}
	if utf8.RuneCountInString(n.Address) > 200 {
		bad("address", "too_long", "地址不超过 200 字")
	}
	if n.Places <= 0 || n.Places > 100000 {
		bad("places", "invalid_places", "托位数须为正整数")
	}
	fields = append(fields, validateFiling(&n, in, today)...)
	n.OrganisationID = in.OrganisationID
	if len(fields) > 0 {
		return n, apperr.Invalid("validation_failed", "托育机构信息有误", fields...)
	}
	return n, nil
}

// validateFiling sets n's filing dates from in as its filing status wants
// them and returns the errors of the filing fields.
func validateFiling(n *Institution, in Input, today time.Time) []apperr.FieldError {
	var fields []apperr.FieldError
	bad := func(field, code, msg string) {
		fields = append(fields, apperr.FieldError{Field: field, Code: code, Message: msg})
	}
	filed, err1 := parseDate(in.FiledOn)
	revoked, err2 := parseDate(in.RevokedOn)
	if err1 != nil {
		bad("filed_on", "invalid_date", "备案日期格式应为 YYYY-MM-DD")
	}
	if err2 != nil {
		bad("revoked_on", "invalid_date", "撤销日期格式应为 YYYY-MM-DD")
	}
	// A filing or revocation is a fact of the past: a date after today is a typo.
	if filed != nil && filed.After(today) {
		bad("filed_on", "in_future", "备案日期不能晚于今天")
	}
	if revoked != nil && revoked.After(today) {
		bad("revoked_on", "in_future", "撤销日期不能晚于今天")
	}
	n.FiledOn, n.RevokedOn = filed, revoked
	switch n.FilingStatus {
	case FilingUnfiled:
		n.FiledOn, n.RevokedOn = nil, nil
	case FilingFiled:
		n.RevokedOn = nil
		if filed == nil && err1 == nil {
			bad("filed_on", "required", "已备案的机构须填写备案日期")
		}
	case FilingRevoked:
		if filed == nil && err1 == nil {
			bad("filed_on", "required", "撤销备案的机构须填写原备案日期")
		}
		if revoked == nil && err2 == nil {
			bad("revoked_on", "required", "请填写撤销备案日期")
		}
		if filed != nil && revoked != nil && revoked.Before(*filed) {
			bad("revoked_on", "before_filed", "撤销日期不能早于备案日期")
		}
	default:
		bad("filing_status", "invalid_filing_status", "备案状态不在可选范围内")
	}
	return fields
}

func parseDate(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Create adds an institution in a region within p's scope and records
// institutions.create. Errors: Forbidden forbidden_role; Invalid
// validation_failed; Conflict uscc_taken, organisation_taken.
func (s *Service) Create(ctx context.Context, p *accounts.Principal, in Input) (*Institution, error) {
	if !p.Is(keepers...) {
		return nil, apperr.Forbidden("forbidden_role", "只有卫健部门可以维护托育机构")
	}
	n, err := validate(p, in, s.now())
	if err != nil {
		return nil, err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := checkLinkedOrg(ctx, tx, p, n.OrganisationID); err != nil {
			return err
		}
		if err := NewStore(tx).Insert(ctx, &n); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "institutions.create", TargetType: "institution", TargetID: strconv.FormatInt(n.ID, 10),
			Summary: map[string]any{"uscc": n.USCC, "region_code": n.RegionCode, "filing_status": n.FilingStatus},
		})
	})
	if err != nil {
		return nil, err
	}
	return s.ByID(ctx, n.ID)
}

// Update replaces the fields of institution id, which must be in p's scope,
// and records institutions.update with the names of the changed fields.
// Errors: Forbidden forbidden_role; NotFound institution_not_found; Invalid
// validation_failed; Conflict uscc_taken, organisation_taken.
func (s *Service) Update(ctx context.Context, p *accounts.Principal, id int64, in Input) (*Institution, error) {
	if !p.Is(keepers...) {
		return nil, apperr.Forbidden("forbidden_role", "只有卫健部门可以维护托育机构")
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Scope first: outside it the institution does not exist, whatever
		// the input says.
		old, err := NewStore(tx).LockInScope(ctx, p.Scope(), id)
		if err != nil {
			return err
		}
		n, err := validate(p, in, s.now())
		if err != nil {
			return err
		}
		n.ID = id
		changed := changedFields(old, &n)
		if len(changed) == 0 {
			return nil
		}
		if n.OrganisationID != old.OrganisationID {
			if err := checkLinkedOrg(ctx, tx, p, n.OrganisationID); err != nil {
				return err
			}
		}
		if err := NewStore(tx).Update(ctx, &n); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "institutions.update", TargetType: "institution", TargetID: strconv.FormatInt(id, 10),
			Summary: map[string]any{"fields": changed},
		})
	})
	if err != nil {
		return nil, err
	}
	return s.ByID(ctx, id)
}

func changedFields(a, b *Institution) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("uscc", a.USCC != b.USCC)
	add("name", a.Name != b.Name)
	add("kind", a.Kind != b.Kind)
	add("region_code", a.RegionCode != b.RegionCode)
	add("address", a.Address != b.Address)
	add("places", a.Places != b.Places)
	add("filing_status", a.FilingStatus != b.FilingStatus)
	add("filed_on", !sameDate(a.FiledOn, b.FiledOn))
	add("revoked_on", !sameDate(a.RevokedOn, b.RevokedOn))
	add("organisation_id", a.OrganisationID != b.OrganisationID)
	return out
}

func sameDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Format(time.DateOnly) == b.Format(time.DateOnly)
}

// Delete removes institution id, in p's scope, when no worker names it as
// employer, and records institutions.delete. Errors: Forbidden
// forbidden_role; NotFound institution_not_found; Conflict institution_in_use.
func (s *Service) Delete(ctx context.Context, p *accounts.Principal, id int64) error {
	if !p.Is(keepers...) {
		return apperr.Forbidden("forbidden_role", "只有卫健部门可以维护托育机构")
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := NewStore(tx).DeleteInScope(ctx, p.Scope(), id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "institutions.delete", TargetType: "institution", TargetID: strconv.FormatInt(id, 10),
		})
	})
}

// ByID returns institution id (the registry is public to logged-in users).
// Errors: NotFound institution_not_found.
func (s *Service) ByID(ctx context.Context, id int64) (*Institution, error) {
	return NewStore(s.db).ByID(ctx, id)
}

// Filter selects institutions in a list.
type Filter struct {
	Q       string // start of the name, or a whole USCC
	Region  string // region code; the region and below
	Page    int
	PerPage int
}

// List returns the institutions matching f and their total, by name.
// Errors: only internal ones (database).
func (s *Service) List(ctx context.Context, f Filter) ([]Institution, int, error) {
	return NewStore(s.db).List(ctx, f)
}

// Regions returns every region, for the forms' region choice.
// Errors: only internal ones (database).
func (s *Service) Regions(ctx context.Context) ([]orgs.Region, error) {
	return orgs.NewStore(s.db).Regions(ctx)
}

// CanEdit reports whether p may change institution n.
func CanEdit(p *accounts.Principal, n *Institution) bool {
	return p.Is(keepers...) && p.Scope().CoversRegion(n.RegionCode)
}

// checkLinkedOrg refuses linking an institution to an organisation that is
// not a childcare institution in the caller's region: the link decides which
// institution users see the workers employed there.
func checkLinkedOrg(ctx context.Context, tx bun.IDB, p *accounts.Principal, orgID int64) error {
	if orgID == 0 {
		return nil
	}
	o, err := orgs.NewStore(tx).ByID(ctx, orgID)
	if err != nil && apperr.KindOf(err) != apperr.KindNotFound {
		return err
	}
	if err != nil || o.Kind != "institution" || !p.Scope().CoversRegion(o.RegionCode) {
		return apperr.Invalid("validation_failed", "托育机构信息有误", apperr.FieldError{Field: "organisation_id",
			Code: "invalid_organisation", Message: "关联的机构须是本辖区内的托育机构账号"})
	}
	return nil
}

// KnownRegion reports whether code names a region, for the list's region
// filter: a code that names none would silently list nothing.
func (s *Service) KnownRegion(ctx context.Context, code string) (bool, error) {
	err := orgs.CheckRegion(ctx, s.db, "region", code)
	if apperr.KindOf(err) == apperr.KindInvalid {
		return false, nil
	}
	return err == nil, err
}
