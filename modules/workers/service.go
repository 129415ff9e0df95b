package workers

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/institutions"
	"tuoyu/modules/pg"
	"tuoyu/modules/pii"
)

// Service is the workers' use cases: register, find, show, edit, reveal.
type Service struct {
	db     *bun.DB
	cipher *pii.Cipher
	now    func() time.Time
	plans  *pg.Plans    // row estimates of the list's scopes, asked once a minute
	prep   *pg.Prepared // the list's pages that plan alike for every scope value
}

// NewService returns the workers service. now is the clock (time.Now in
// production, fixed in tests).
func NewService(db *bun.DB, cipher *pii.Cipher, now func() time.Time) *Service {
	return &Service{db: db, cipher: cipher, now: now, plans: pg.NewPlans(time.Minute, time.Now), prep: pg.NewPrepared(db)}
}

// Prepared is the set of prepared statements the list runs on, for the
// plan guard to observe.
func (s *Service) Prepared() *pg.Prepared { return s.prep }

// Cipher is the personal-data cipher the service encrypts with, for modules
// that write workers (rosters) and must produce the same indexes.
func (s *Service) Cipher() *pii.Cipher { return s.cipher }

// RegisterInput is a new worker as staff enter it.
type RegisterInput struct {
	Name                  string
	IDNumber              string
	Phone                 string
	Education             string
	EmployerInstitutionID int64
}

// registrars may create worker records.
var registrars = []accounts.Role{accounts.RoleCollege, accounts.RoleProvider,
	accounts.RoleHRReviewer, accounts.RoleHRApprover, accounts.RoleAdmin}

// Register creates a worker. A college registering a worker becomes their
// college; the caller's organisation is kept as who registered them.
// Errors: Forbidden forbidden_role; Invalid validation_failed (fields name,
// id_number, phone, education, employer_institution_id); Conflict
// worker_exists.
func (s *Service) Register(ctx context.Context, p *accounts.Principal, in RegisterInput) (*Worker, error) {
	if !p.Is(registrars...) {
		return nil, apperr.Forbidden("forbidden_role", "您的角色无权登记学员")
	}
	var fields []apperr.FieldError
	name, err := ValidateName(in.Name)
	fields = appendFieldErr(fields, err)
	id, err := ValidateID(in.IDNumber, s.now())
	fields = appendFieldErr(fields, err)
	w := &Worker{Name: name, RegisteredByOrgID: p.OrgID, Occupations: []string{}}
	if strings.TrimSpace(in.Phone) != "" {
		err := s.setPhone(w, in.Phone)
		fields = appendFieldErr(fields, err)
	}
	if in.Education != "" {
		e, ok := ParseEducation(in.Education)
		if !ok {
			fields = append(fields, apperr.FieldError{Field: "education", Code: "invalid_education", Message: "学历不在可选范围内"})
		}
		w.Education = e
	}
	if len(fields) > 0 {
		return nil, apperr.Invalid("validation_failed", "学员信息有误", fields...)
	}
	if err := s.setIDNumber(w, id); err != nil {
		return nil, err
	}
	if p.Is(accounts.RoleCollege) {
		w.CollegeOrgID = p.OrgID
	}
	w.EmployerInstitutionID = in.EmployerInstitutionID

	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if w.EmployerInstitutionID != 0 {
			if err := checkInstitution(ctx, tx, w.EmployerInstitutionID); err != nil {
				return err
			}
		}
		if err := NewStore(tx).Insert(ctx, w); err != nil {
			return err
		}
		if p.Is(accounts.RoleProvider) {
			// A provider sees the workers it registers (provider_workers).
			if err := NewStore(tx).LinkRegistrar(ctx, p.OrgID, w.ID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "workers.register", TargetType: "worker", TargetID: strconv.FormatInt(w.ID, 10),
			Summary: map[string]any{"id_mask": w.IDMask},
		})
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// setIDNumber fills the ID number columns of w from a validated ID.
func (s *Service) setIDNumber(w *Worker, id ResidentID) error {
	enc, err := s.cipher.Encrypt(id.Number)
	if err != nil {
		return fmt.Errorf("encrypt id number: %w", err)
	}
	w.IDNumberEnc = enc
	w.IDNumberIdx = s.cipher.Index(pii.KindIDNumber, id.Number)
	w.IDMask = pii.MaskID(id.Number)
	w.Sex = id.Sex
	w.BirthDate = id.Birth
	w.IDAreaCode = id.Area
	return nil
}

// setPhone validates and fills the phone columns of w; "" clears them.
func (s *Service) setPhone(w *Worker, raw string) error {
	if strings.TrimSpace(raw) == "" {
		w.PhoneEnc, w.PhoneIdx, w.PhoneMask = nil, nil, ""
		return nil
	}
	phone, err := ValidatePhone(raw)
	if err != nil {
		return err
	}
	enc, err := s.cipher.Encrypt(phone)
	if err != nil {
		return fmt.Errorf("encrypt phone: %w", err)
	}
	w.PhoneEnc, w.PhoneIdx, w.PhoneMask = enc, s.cipher.Index(pii.KindPhone, phone), pii.MaskPhone(phone)
	return nil
}

// setBank validates and fills the bank account columns of w; "" clears them.
func (s *Service) setBank(w *Worker, raw string) error {
	if strings.TrimSpace(raw) == "" {
		w.BankAccountEnc, w.BankAccountIdx, w.BankAccountMask = nil, nil, ""
		return nil
	}
	acct, err := ValidateBankAccount(raw)
	if err != nil {
		return err
	}
	enc, err := s.cipher.Encrypt(acct)
	if err != nil {
		return fmt.Errorf("encrypt bank account: %w", err)
	}
	w.BankAccountEnc, w.BankAccountIdx, w.BankAccountMask = enc, s.cipher.Index(pii.KindBank, acct), pii.MaskBank(acct)
	return nil
}

// Seal fills the personal-data columns of w (encrypted, indexed, masked)
// from a validated ID number, a phone and a bank account ("" for none), for
// bulk loads of generated people (the demo world, scale tests) that do not
// go through Register one by one. Errors: Invalid invalid_phone,
// invalid_bank_account.
func (s *Service) Seal(w *Worker, id ResidentID, phone, bank string) error {
	if err := s.setIDNumber(w, id); err != nil {
		return err
	}
	if err := s.setPhone(w, phone); err != nil {
		return err
	}
	return s.setBank(w, bank)
}

// AddIfAbsent stores sealed workers through idb (the caller's transaction
// or the database), skipping ID numbers already registered, so a bulk load
// can run twice. Errors: only internal ones.
func (s *Service) AddIfAbsent(ctx context.Context, idb bun.IDB, ws []Worker) error {
	return NewStore(idb).InsertIfAbsent(ctx, ws)
}

// Nth returns the n-th registered worker (from 0) with their plain ID
// number, for seeds that pick a known person. Errors: NotFound
// worker_not_found.
func (s *Service) Nth(ctx context.Context, n int) (*Worker, string, error) {
	w, err := NewStore(s.db).Nth(ctx, n)
	if err != nil {
		return nil, "", err
	}
	plain, err := s.cipher.Decrypt(w.IDNumberEnc)
	return w, plain, err
}

// InstitutionOptions lists institutions (the public registry) by name for
// the employer select of the profile form. Errors: only internal ones (database).
func (s *Service) InstitutionOptions(ctx context.Context) ([]institutions.Option, error) {
	return institutions.NewStore(s.db).Options(ctx, 1000)
}

func checkInstitution(ctx context.Context, idb bun.IDB, id int64) error {
	ok, err := institutions.NewStore(idb).Exists(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Invalid("validation_failed", "学员信息有误", apperr.FieldError{
			Field: "employer_institution_id", Code: "unknown_institution", Message: "所选托育机构不存在"})
	}
	return nil
}

// ByID returns worker id if p may see it. Errors: NotFound worker_not_found.
func (s *Service) ByID(ctx context.Context, p *accounts.Principal, id int64) (*Worker, error) {
	return NewStore(s.db).ByID(ctx, p, id)
}

// Me returns the worker record of a logged-in worker. Errors: NotFound
// worker_not_found (the caller is not a worker).
func (s *Service) Me(ctx context.Context, p *accounts.Principal) (*Worker, error) {
	if !p.Is(accounts.RoleWorker) || p.WorkerID == 0 {
		return nil, errNotFound()
	}
	return s.ByID(ctx, p, p.WorkerID)
}

// Filter selects workers in a list.
type Filter struct {
	Q       string // an exact ID number, or the start of a name
	Page    int
	PerPage int
	// AfterName and AfterID (when set) resume the list after that worker,
	// from a cursor; Page is then ignored.
	AfterName string
	AfterID   int64
}

// List returns the workers p may see matching f and their total (see
// Browse). Errors: Forbidden forbidden_role for workers.
func (s *Service) List(ctx context.Context, p *accounts.Principal, f Filter) ([]Worker, int, error) {
	ws, total, _, err := s.browse(ctx, p, f, 0)
	return ws, total, err
}

// Browse returns a page of the workers p may see matching f, read with one
// row more than f.PerPage so the caller can tell whether a next page exists,
// and the total: exact up to pg.ExactUpTo, else an estimate (estimate true).
// A q with a digit in it is taken as an ID number and looked up by its blind
// index (an ID number is never matched partially); otherwise it is a name
// prefix. Errors: Forbidden forbidden_role for workers.
func (s *Service) Browse(ctx context.Context, p *accounts.Principal, f Filter) (ws []Worker, total int, estimate bool, err error) {
	return s.browse(ctx, p, f, 1)
}

func (s *Service) browse(ctx context.Context, p *accounts.Principal, f Filter, extra int) ([]Worker, int, bool, error) {
	if !p.IsStaff() {
		return nil, 0, false, apperr.Forbidden("forbidden_role", "您的角色无权查询学员")
	}
	// Browse serves the list API and page, which show masks only.
	lq := ListQuery{Offset: (f.Page - 1) * f.PerPage, AfterName: f.AfterName, AfterID: f.AfterID, Brief: extra > 0}
	if f.PerPage > 0 {
		lq.Limit = f.PerPage + extra
	}
	if f.Page < 1 || f.AfterID != 0 {
		lq.Offset = 0
	}
	q := strings.TrimSpace(f.Q)
	switch {
	case q == "":
	case strings.ContainsAny(q, "0123456789０１２３４５６７８９"):
		lq.IDNumberIdx = s.cipher.Index(pii.KindIDNumber, NormalizeID(q))
	default:
		lq.NamePrefix = q
	}
	return NewStore(s.db).WithPlans(s.plans).WithPrepared(s.prep).List(ctx, p, lq)
}

// ProfileInput is an edit of a worker's profile. Nil fields are left as
// they are; the ID number cannot be edited (a wrong one means a new record).
type ProfileInput struct {
	Name                  *string
	Phone                 *string
	Education             *string
	EmployerInstitutionID *int64 // 0 clears
	Major                 *string
	GraduationYear        *int // 0 clears
	Occupations           *[]string
	Employment            *string // "" = unknown
	InsuredMonths         *int
	InsuredMonthsUnknown  bool      // set back to "never asked"
	TargetGroups          *[]string // empty: none of the six groups
	TargetGroupsUnknown   bool      // set back to "never asked"
	BankAccount           *string
	BankName              *string
}

// editable says which profile fields each role may change. Workers keep
// their contact, schooling and bank details current (not their employer: it
// decides which HR bureau answers for them, so staff set it); colleges their
// graduates' schooling; HR everything the subsidy rules read, since HR
// answers for those facts. Workers may declare their own subsidy facts
// (marked as declared, and never over what HR supplied); regulators and
// institutions only look.
var editable = map[accounts.Role][]string{
	accounts.RoleWorker:     {"phone", "education", "bank_account", "bank_name", "employment", "insured_months", "target_groups"},
	accounts.RoleCollege:    {"phone", "education", "major", "graduation_year"},
	accounts.RoleProvider:   {"phone", "education"},
	accounts.RoleHRReviewer: allProfileFields,
	accounts.RoleHRApprover: allProfileFields,
	accounts.RoleAdmin:      allProfileFields,
}

var allProfileFields = []string{"name", "phone", "education", "employer_institution_id", "major",
	"graduation_year", "occupations", "employment", "insured_months", "target_groups", "bank_account", "bank_name"}

// EditableFields lists the fields p may change on a worker's profile (for
// forms).
func EditableFields(p *accounts.Principal) []string {
	if p == nil {
		return nil
	}
	return editable[p.Role]
}

// UpdateProfile applies in to worker id if p may see it and change those
// fields, and records which fields changed (never their values) in the
// audit trail as workers.update. It returns the worker as stored.
// Errors: NotFound worker_not_found; Invalid validation_failed with a field
// error per bad or not-editable field.
func (s *Service) UpdateProfile(ctx context.Context, p *accounts.Principal, id int64, in ProfileInput) (*Worker, error) {
	var out *Worker
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		if err := st.lock(ctx, id); err != nil {
			return err
		}
		w, err := st.ByID(ctx, p, id)
		if err != nil {
			return err
		}
		changed, err := s.applyProfile(ctx, tx, p, w, in)
		if err != nil {
			return err
		}
		if len(changed) > 0 {
			if err := st.Update(ctx, w, columnsOf(changed)...); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Event{
				ActorUserID: p.UserID, ActorOrgID: p.OrgID,
				Action: "workers.update", TargetType: "worker", TargetID: strconv.FormatInt(id, 10),
				Summary: map[string]any{"fields": changed},
			}); err != nil {
				return err
			}
		}
		out, err = st.ByID(ctx, p, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyProfile validates in against what p may edit and changes w; it
// returns the names of the fields whose value actually changed. The one
// look-up (does the employer exist) comes first; the rest is decided by
// profileEdit without the database.
func (s *Service) applyProfile(ctx context.Context, tx bun.Tx, p *accounts.Principal, w *Worker, in ProfileInput) ([]string, error) {
	allowed := EditableFields(p)
	if v := in.EmployerInstitutionID; v != nil && *v != 0 && slices.Contains(allowed, "employer_institution_id") {
		if err := checkInstitution(ctx, tx, *v); err != nil {
			return nil, err
		}
	}
	e := &profileEdit{s: s, p: p, w: w, allowed: allowed}
	e.identity(in)
	e.schooling(in)
	e.situation(in)
	e.bank(in)
	if len(e.fields) > 0 {
		return nil, apperr.Invalid("validation_failed", "学员信息有误", e.fields...)
	}
	return e.changed, nil
}

// profileEdit applies a ProfileInput to a worker field by field, collecting
// the field errors and the names of the fields that changed.
type profileEdit struct {
	s       *Service // seals phone and bank numbers; gives today's date
	p       *accounts.Principal
	w       *Worker
	allowed []string
	fields  []apperr.FieldError
	changed []string
}

// may reports whether p may edit field, noting an error when not.
func (e *profileEdit) may(field string) bool {
	if slices.Contains(e.allowed, field) {
		return true
	}
	e.bad(field, "not_editable", "您无权修改此项")
	return false
}

func (e *profileEdit) bad(field, code, msg string) {
	e.fields = append(e.fields, apperr.FieldError{Field: field, Code: code, Message: msg})
}

func (e *profileEdit) change(field string) { e.changed = append(e.changed, field) }

// identity: name, phone and employer.
func (e *profileEdit) identity(in ProfileInput) {
	w := e.w
	if in.Name != nil && e.may("name") {
		name, err := ValidateName(*in.Name)
		e.fields = appendFieldErr(e.fields, err)
		if err == nil && name != w.Name {
			w.Name = name
			e.change("name")
		}
	}
	if in.Phone != nil && e.may("phone") {
		old := w.PhoneIdx
		if err := e.s.setPhone(w, *in.Phone); err != nil {
			e.fields = appendFieldErr(e.fields, err)
		} else if !bytes.Equal(old, w.PhoneIdx) {
			e.change("phone")
		}
	}
	if in.EmployerInstitutionID != nil && e.may("employer_institution_id") && *in.EmployerInstitutionID != w.EmployerInstitutionID {
		w.EmployerInstitutionID = *in.EmployerInstitutionID
		e.change("employer_institution_id")
	}
}

// schooling: education, major and graduation year.
func (e *profileEdit) schooling(in ProfileInput) {
	w := e.w
	if in.Education != nil && e.may("education") {
		var ed Education
		ok := true
		if *in.Education != "" {
			ed, ok = ParseEducation(*in.Education)
		}
		if !ok {
			e.bad("education", "invalid_education", "学历不在可选范围内")
		} else if ed != w.Education {
			w.Education = ed
			e.change("education")
		}
	}
	if in.Major != nil && e.may("major") {
		m := strings.TrimSpace(*in.Major)
		if utf8.RuneCountInString(m) > 100 {
			e.bad("major", "too_long", "专业名称不超过 100 字")
		} else if m != w.Major {
			w.Major = m
			e.change("major")
		}
	}
	if in.GraduationYear != nil && e.may("graduation_year") {
		y := *in.GraduationYear
		if y != 0 && (y < 1950 || y > e.s.now().Year()+5) {
			e.bad("graduation_year", "invalid_year", "毕业年份不合理")
		} else if y != w.GraduationYear {
			w.GraduationYear = y
			e.change("graduation_year")
		}
	}
}

// situation: occupations, employment, insured months and target groups.
// Subsidy facts carry who set them; a worker's own declaration never
// overrides what HR supplied (DESIGN §6.5).
func (e *profileEdit) situation(in ProfileInput) {
	w := e.w
	if in.Occupations != nil && e.may("occupations") {
		occ, ok := cleanCodes(*in.Occupations, ValidOccupation)
		if !ok {
			e.bad("occupations", "invalid_occupation", "职业（工种）代码有误")
		} else if !slices.Equal(occ, w.Occupations) {
			w.Occupations = occ
			e.change("occupations")
		}
	}
	source, now := factSourceOf(e.p), e.s.now()
	if in.Employment != nil && e.may("employment") && !e.hrWins("employment", source, w.EmploymentSetBy) {
		em := Employment(*in.Employment)
		if em != "" && !em.Valid() {
			e.bad("employment", "invalid_employment", "就业状态不在可选范围内")
		} else if em != w.Employment || (em != "" && w.EmploymentSetBy != source) {
			w.Employment = em
			w.EmploymentSetAt, w.EmploymentSetBy = factStamp(em != "", now, source)
			e.change("employment")
		}
	}
	e.insuredMonths(in, source, now)
	e.targetGroups(in, source, now)
}

// hrWins reports (and notes as a field error) that a worker tries to
// change a fact HR has set.
func (e *profileEdit) hrWins(field string, source, by FactSource) bool {
	if source == FactByWorker && by.ByHR() {
		e.bad(field, "set_by_hr", "此项已由人社部门核定，如有变化请联系人社部门")
		return true
	}
	return false
}

func (e *profileEdit) insuredMonths(in ProfileInput, source FactSource, now time.Time) {
	w := e.w
	if in.InsuredMonthsUnknown && e.may("insured_months") && !e.hrWins("insured_months", source, w.InsuredMonthsSetBy) {
		if w.InsuredMonths != nil {
			w.InsuredMonths, w.InsuredMonthsOn, w.InsuredMonthsSource = nil, nil, ""
			w.InsuredMonthsSetAt, w.InsuredMonthsSetBy = nil, ""
			e.change("insured_months")
		}
		return
	}
	if in.InsuredMonths == nil || !e.may("insured_months") || e.hrWins("insured_months", source, w.InsuredMonthsSetBy) {
		return
	}
	m := *in.InsuredMonths
	if m < 0 || m > 12*60 {
		e.bad("insured_months", "invalid_months", "失业保险缴费月数须为 0–720")
		return
	}
	// A confirmed figure is news even when unchanged: the date says
	// how fresh it is, the source who vouches for it.
	today := dateOf(now)
	w.InsuredMonths = &m
	w.InsuredMonthsOn = &today
	prefix := "hr:"
	if source == FactByWorker {
		prefix = "worker:"
	}
	w.InsuredMonthsSource = prefix + e.p.Username
	w.InsuredMonthsSetAt, w.InsuredMonthsSetBy = factStamp(true, now, source)
	e.change("insured_months")
}

func (e *profileEdit) targetGroups(in ProfileInput, source FactSource, now time.Time) {
	w := e.w
	if in.TargetGroupsUnknown && e.may("target_groups") && !e.hrWins("target_groups", source, w.TargetGroupsSetBy) {
		if w.TargetGroups != nil {
			w.TargetGroups = nil
			w.TargetGroupsSetAt, w.TargetGroupsSetBy = nil, ""
			e.change("target_groups")
		}
		return
	}
	if in.TargetGroups == nil || !e.may("target_groups") || e.hrWins("target_groups", source, w.TargetGroupsSetBy) {
		return
	}
	g, ok := cleanCodes(*in.TargetGroups, ValidGroup)
	if !ok {
		e.bad("target_groups", "invalid_group", "人员类别代码有误")
	} else if w.TargetGroups == nil || !slices.Equal(g, w.TargetGroups) || w.TargetGroupsSetBy != source {
		// [] is an answer ("none of the six"), unlike nil ("never asked").
		w.TargetGroups = append([]string{}, g...)
		w.TargetGroupsSetAt, w.TargetGroupsSetBy = factStamp(true, now, source)
		e.change("target_groups")
	}
}

// bank: account number and bank name.
func (e *profileEdit) bank(in ProfileInput) {
	w := e.w
	if in.BankAccount != nil && e.may("bank_account") {
		old := w.BankAccountIdx
		if err := e.s.setBank(w, *in.BankAccount); err != nil {
			e.fields = appendFieldErr(e.fields, err)
		} else if !bytes.Equal(old, w.BankAccountIdx) {
			e.change("bank_account")
		}
	}
	if in.BankName != nil && e.may("bank_name") {
		b := strings.TrimSpace(*in.BankName)
		if utf8.RuneCountInString(b) > 100 {
			e.bad("bank_name", "too_long", "开户行名称不超过 100 字")
		} else if b != w.BankName {
			w.BankName = b
			e.change("bank_name")
		}
	}
}

// factSourceOf is how a fact p sets is marked: staff who may edit facts
// are HR (admins act for them), workers declare their own.
func factSourceOf(p *accounts.Principal) FactSource {
	if p.Is(accounts.RoleWorker) {
		return FactByWorker
	}
	return FactByHRReviewer
}

// factStamp is the provenance of a fact: none while it is unknown.
func factStamp(known bool, at time.Time, by FactSource) (*time.Time, FactSource) {
	if !known {
		return nil, ""
	}
	return &at, by
}

// columnsOf maps changed profile fields to the table columns they write.
func columnsOf(changed []string) []string {
	var cols []string
	for _, f := range changed {
		switch f {
		case "phone":
			cols = append(cols, "phone_enc", "phone_idx", "phone_mask")
		case "bank_account":
			cols = append(cols, "bank_account_enc", "bank_account_idx", "bank_account_mask")
		case "insured_months":
			cols = append(cols, "insured_months", "insured_months_on", "insured_months_source",
				"insured_months_set_at", "insured_months_set_by")
		case "employment", "target_groups":
			cols = append(cols, f, f+"_set_at", f+"_set_by")
		default:
			cols = append(cols, f)
		}
	}
	return cols
}

// revealers may see a worker's whole ID number: HR staff check documents.
var revealers = []accounts.Role{accounts.RoleHRReviewer, accounts.RoleHRApprover}

// RevealID returns the whole ID number of worker id to HR staff in scope and
// records workers.reveal_id in the audit trail first, so no reveal goes
// unrecorded. Errors: NotFound worker_not_found; Forbidden forbidden_role.
func (s *Service) RevealID(ctx context.Context, p *accounts.Principal, id int64) (string, error) {
	if !p.Is(revealers...) {
		return "", apperr.Forbidden("forbidden_role", "只有人社工作人员可以查看完整证件号")
	}
	var enc []byte
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		w, err := NewStore(tx).ByID(ctx, p, id)
		if err != nil {
			return err
		}
		enc = w.IDNumberEnc
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "workers.reveal_id", TargetType: "worker", TargetID: strconv.FormatInt(id, 10),
		})
	})
	if err != nil {
		return "", err
	}
	plain, err := s.cipher.Decrypt(enc)
	if err != nil {
		return "", fmt.Errorf("decrypt id number of worker %d: %w", id, err)
	}
	return plain, nil
}

// ValidateName trims a person's name and checks it: 1–50 characters, no
// digits or control characters. The error is an *apperr.Error for field
// name. Errors: Invalid name_required, name_too_long, name_invalid.
func ValidateName(raw string) (string, error) {
	s := strings.TrimSpace(strings.ReplaceAll(raw, "\u3000", " "))
	bad := func(code, msg string) (string, error) {
		return "", apperr.Invalid(code, msg, apperr.FieldError{Field: "name", Code: code, Message: msg})
	}
	if s == "" {
		return bad("name_required", "请填写姓名")
	}
	if utf8.RuneCountInString(s) > 50 {
		return bad("name_too_long", "姓名不超过 50 个字")
	}
	for _, r := range s {
		if unicode.IsDigit(r) || unicode.IsControl(r) || strings.ContainsRune("<>\"'&;=@#$%^*()[]{}|\\/", r) {
			return bad("name_invalid", "姓名含有不允许的字符")
		}
	}
	return s, nil
}

// ValidateBankAccount checks a bank card or account number (12–30 digits
// after spaces and hyphens are removed) and returns it normalised. The
// error is an *apperr.Error for field bank_account. Errors: Invalid bank_account_format.
func ValidateBankAccount(raw string) (string, error) {
	s := pii.Normalize(pii.KindBank, raw)
	if len(s) < 12 || len(s) > 30 || !allDigits(s) {
		return "", apperr.Invalid("bank_account_format", "银行账号格式不正确", apperr.FieldError{
			Field: "bank_account", Code: "bank_account_format", Message: "银行账号应为 12–30 位数字"})
	}
	return s, nil
}

// cleanCodes trims, de-duplicates and sorts codes, reporting false when one
// is not valid.
func cleanCodes(in []string, valid func(string) bool) ([]string, bool) {
	out := []string{}
	for _, c := range in {
		c = strings.TrimSpace(c)
		if !valid(c) {
			return nil, false
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, true
}

func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// appendFieldErr adds the field errors of err (an *apperr.Error) to fields;
// nil adds nothing.
func appendFieldErr(fields []apperr.FieldError, err error) []apperr.FieldError {
	if err == nil {
		return fields
	}
	if e, ok := apperr.As(err); ok && len(e.Fields) > 0 {
		return append(fields, e.Fields...)
	}
	return append(fields, apperr.FieldError{Field: "", Code: "invalid", Message: err.Error()})
}
