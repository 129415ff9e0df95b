package certificates

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/attendance"
	"tuoyu/modules/audit"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/notify"
	"tuoyu/modules/orgs"
	"tuoyu/modules/workers"
)

// Config is what the service is built from.
type Config struct {
	DB       *bun.DB
	Classes  *classes.Service // the classes a caller may see (class pages and exports)
	Renderer *Renderer
	Signer   *Signer
	BaseURL  string // verify links: BaseURL + /verify/{code}
	DataDir  string // exports live in DataDir/exports
	Location *time.Location
	Now      func() time.Time
	Logger   *slog.Logger
	// ValidYears is the policy parameter certificates.in_service_valid_years
	// for a region on a day (subsidies owns policy parameters and sits
	// above this module, so the composition root passes the look-up in).
	ValidYears func(ctx context.Context, region string, on time.Time) (int, error)
}

// Service is the certificates' use cases.
type Service struct {
	cfg     Config
	db      *bun.DB
	now     func() time.Time
	exports sync.WaitGroup
	stop    chan struct{}
	once    sync.Once
	// keyStored: the signer's public key is in certificate_signing_keys.
	keyStored atomic.Bool
}

// NewService returns the certificates service.
func NewService(cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ValidYears == nil {
		cfg.ValidYears = func(context.Context, string, time.Time) (int, error) { return 1, nil }
	}
	return &Service{cfg: cfg, db: cfg.DB, now: cfg.Now, stop: make(chan struct{})}
}

// Renderer is the service's PDF renderer.
func (s *Service) Renderer() *Renderer { return s.cfg.Renderer }

func (s *Service) today() time.Time {
	n := s.now().In(s.cfg.Location)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// defaultTemplate is version 1, stored on first issue when an admin has
// uploaded none.
var defaultTemplate = Template{Version: 1, Layout: "classic", Title: "湖北省托育从业人员培训管理平台",
	IssuerName: "湖北省托育从业人员培训管理平台", Signatory: "（电子证书，扫码核验）", Note: "默认模板"}

// currentTemplate returns the newest template, storing version 1 first
// when there is none.
func (s *Service) currentTemplate(ctx context.Context, idb bun.IDB) (Template, error) {
	st := NewStore(idb)
	t, err := st.CurrentTemplate(ctx)
	if !apperr.Is(err, "template_not_found") {
		return t, err
	}
	if err := st.InsertDefaultTemplate(ctx, defaultTemplate); err != nil {
		return Template{}, err
	}
	return st.CurrentTemplate(ctx)
}

// draft is the certificate of in before its number: holder, plan, issuer,
// hours, dates and kind, and the prefix its number takes a serial of.
// Errors: NotFound worker_not_found, plan_not_found; Invalid invalid_issue.
func (s *Service) draft(ctx context.Context, tx bun.IDB, in IssueInput) (Certificate, string, error) {
	w, err := workers.NewStore(tx).Get(ctx, in.WorkerID)
	if err != nil {
		return Certificate{}, "", err
	}
	plan, err := catalog.NewStore(tx).PlanByCode(ctx, in.PlanCode)
	if err != nil {
		return Certificate{}, "", err
	}
	provider, err := orgs.NewStore(tx).ByID(ctx, in.ProviderOrgID)
	if err != nil {
		return Certificate{}, "", err
	}
	hours, err := attendance.NewStore(tx).HoursDone(ctx, in.EnrolmentID)
	if err != nil {
		return Certificate{}, "", err
	}
	issuedOn := dateOnly(in.PassedOn.In(s.cfg.Location)) // a date (UTC midnight) stays its day
	if in.PassedOn.IsZero() {
		issuedOn = s.today()
	}
	region := w.RegionCode
	if region == "" {
		region = provider.RegionCode
	}
	c := Certificate{
		Kind: KindTraining, Source: SourceIssued, WorkerID: w.ID, EnrolmentID: in.EnrolmentID, ClassID: in.ClassID,
		ProviderOrgID: provider.ID, RegionCode: region, PlanCode: plan.Code, PlanName: plan.Name,
		Occupation: plan.Occupation, Level: plan.Level, Hours: &hours, HolderName: w.Name, HolderIDMask: w.IDMask,
		IssuerName: provider.Name, IssuedOn: issuedOn, IssuedAt: s.now().UTC().Truncate(time.Second), Status: StatusValid,
	}
	var prefix string
	if plan.Level != nil {
		c.Kind = KindSkill
		if prefix, err = SkillPrefix(provider.SiteCode, issuedOn.Year(), *plan.Level); err != nil {
			return Certificate{}, "", apperr.Invalid("invalid_issue", "培训机构没有六位站点代码，不能出具职业技能等级证书").Wrap(err)
		}
	} else {
		prefix = TrainingPrefix(issuedOn.Year())
		if plan.Purpose == catalog.PurposeInService {
			years, err := s.cfg.ValidYears(ctx, region, issuedOn)
			if err != nil {
				return Certificate{}, "", err
			}
			exp := issuedOn.AddDate(years, 0, 0)
			c.ExpiresOn = &exp
		}
	}
	return c, prefix, nil
}

// Issue issues the certificate of a pass or completion inside the caller's
// transaction tx: a skill-level certificate for a plan with a level, else a
// training certificate. It is idempotent per enrolment: a second call
// returns the certificate already issued. Errors: Conflict worker_banned;
// Invalid glyph_missing, font_unavailable, invalid_issue; NotFound
// worker_not_found, plan_not_found.
func (s *Service) Issue(ctx context.Context, tx bun.IDB, in IssueInput) (Certificate, error) {
	if in.WorkerID == 0 || in.EnrolmentID == 0 || in.ClassID == 0 || in.ProviderOrgID == 0 || in.PlanCode == "" {
		return Certificate{}, apperr.Invalid("invalid_issue", "发证信息不完整")
	}
	st := NewStore(tx)
	if c, err := st.ByEnrolment(ctx, in.EnrolmentID); err != nil || c != nil {
		if c != nil {
			return *c, nil
		}
		return Certificate{}, err
	}
	// The ban flag is read under a share lock: a ban recorded at the same
	// moment waits for this transaction (and then revokes what it issued)
	// or is seen here.
	banned, err := workers.NewStore(tx).BannedForShare(ctx, in.WorkerID)
	if err != nil {
		return Certificate{}, err
	}
	if banned {
		return Certificate{}, apperr.Conflict("worker_banned", "该人员已被终身禁入，不予发证")
	}
	c, prefix, err := s.draft(ctx, tx, in)
	if err != nil {
		return Certificate{}, err
	}
	t, err := s.currentTemplate(ctx, tx)
	if err != nil {
		return Certificate{}, err
	}
	c.TemplateID = t.ID
	// Check the text before a serial is taken: a refused name wastes none.
	if err := s.cfg.Renderer.CheckText(pageOf(c, t).texts()...); err != nil {
		return Certificate{}, err
	}
	serial, err := st.NextSerial(ctx, prefix)
	if err != nil {
		return Certificate{}, err
	}
	if c.Number, err = Number(c.Kind, prefix, serial); err != nil {
		return Certificate{}, err
	}
	if err := s.finish(ctx, tx, &c, &t); err != nil {
		return Certificate{}, err
	}
	if err := st.clearHold(ctx, in.EnrolmentID); err != nil {
		return Certificate{}, err
	}
	return c, audit.Record(ctx, tx, audit.Event{
		Action: "certificates.issue", TargetType: "certificate", TargetID: strconv.FormatInt(c.ID, 10),
		Summary: map[string]any{"number": c.Number, "worker_id": c.WorkerID, "enrolment_id": c.EnrolmentID, "kind": string(c.Kind)},
	})
}

// finish gives c its verify code, PDF digest (when t is given) and
// signature, and stores it.
func (s *Service) finish(ctx context.Context, tx bun.IDB, c *Certificate, t *Template) error {
	code, err := NewVerifyCode(nil)
	if err != nil {
		return err
	}
	c.VerifyCode = code
	if t != nil {
		c.VerifyURL = strings.TrimRight(s.cfg.BaseURL, "/") + "/verify/" + code
		pdf, err := s.cfg.Renderer.Render(*c, *t)
		if err != nil {
			return err
		}
		c.PDFSHA256 = Digest(pdf)
	}
	signer := s.cfg.Signer
	if err := NewStore(tx).EnsureKey(ctx, signer.KeyID, signer.Public()); err != nil {
		return err
	}
	c.KeyID = signer.KeyID
	c.Signature = signer.Sign(answerOf(*c))
	return NewStore(tx).Insert(ctx, c)
}

// answerOf is the verify answer for c.
func answerOf(c Certificate) Answer {
	a := Answer{
		Status: string(c.Status), Number: c.Number, Kind: string(c.Kind), Source: string(c.Source),
		HolderNameMasked: MaskName(c.HolderName), Occupation: c.OccupationLabel(), Level: c.Level,
		PlanCode: c.PlanCode, PlanName: c.PlanName, IssuedOn: c.IssuedOn.Format(time.DateOnly), Issuer: c.IssuerName,
		HasPDF: c.HasPDF(), VerifyCode: c.VerifyCode, KeyID: c.KeyID,
	}
	if c.ExpiresOn != nil {
		d := c.ExpiresOn.Format(time.DateOnly)
		a.ExpiresOn = &d
	}
	if len(c.PDFSHA256) > 0 {
		a.PDFSHA256 = hex.EncodeToString(c.PDFSHA256)
	}
	if c.RevokedOn != nil {
		d := c.RevokedOn.Format(time.DateOnly)
		a.RevokedOn = &d
		r := c.RevokeReason
		a.RevokeReason = &r
	}
	if len(c.Signature) > 0 {
		a.Signature = base64.StdEncoding.EncodeToString(c.Signature)
	}
	return a
}

// CatchUp issues the certificates of candidates that have none, each in a
// transaction of its own (the certificates.issue job feeds it the passes
// and completions without a certificate). A candidate refused for its data
// is held (IssueOrHold) and tried again after HoldRetry; a banned one is
// logged and skipped. It returns how many were issued.
func (s *Service) CatchUp(ctx context.Context, candidates []IssueInput) (int, error) {
	issued := 0
	for _, in := range candidates {
		var now bool // issued by this run
		err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			c, err := NewStore(tx).ByEnrolment(ctx, in.EnrolmentID)
			if err != nil || c != nil {
				return err
			}
			_, h, err := s.IssueOrHold(ctx, tx, in)
			now = err == nil && h == nil
			return err
		})
		if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal {
			s.cfg.Logger.Warn("certificate not issued", "enrolment_id", in.EnrolmentID, "code", e.Code, "reason", e.Message)
			continue
		}
		if err != nil {
			return issued, fmt.Errorf("issue certificate for enrolment %d: %w", in.EnrolmentID, err)
		}
		if now {
			issued++
		}
	}
	return issued, nil
}

// RevokeInput is a provider's or admin's revocation.
type RevokeInput struct {
	ReasonCategory string `json:"reason_category"`
	Note           string `json:"note"`
}

// Revoke revokes certificate id for its issuing provider or an admin; the
// code and verify URL stay and answer "revoked". Errors: NotFound
// certificate_not_found (also another provider's); Forbidden
// forbidden_role; Invalid validation_failed; Conflict already_revoked.
func (s *Service) Revoke(ctx context.Context, p *accounts.Principal, id int64, in RevokeInput) (Certificate, error) {
	if !p.Is(accounts.RoleProvider, accounts.RoleAdmin) {
		return Certificate{}, apperr.Forbidden("forbidden_role", "只有发证机构或平台管理员可以撤销证书")
	}
	var fields []apperr.FieldError
	if in.ReasonCategory != ReasonFraud && in.ReasonCategory != ReasonIssuedInError {
		fields = append(fields, apperr.FieldError{Field: "reason_category", Code: "invalid_reason",
			Message: "撤销原因应为 fraud（弄虚作假）或 issued_in_error（误发）；因禁入撤销由禁入记录自动完成"})
	}
	note := strings.TrimSpace(in.Note)
	if note == "" || utf8.RuneCountInString(note) > 500 {
		fields = append(fields, apperr.FieldError{Field: "note", Code: "invalid_note", Message: "请填写撤销说明（不超过 500 字）"})
	}
	if len(fields) > 0 {
		return Certificate{}, apperr.Invalid("validation_failed", "撤销信息有误", fields...)
	}
	var out Certificate
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		c, err := st.ForCaller(ctx, p, id)
		if err != nil {
			return err
		}
		if p.Role == accounts.RoleProvider && c.ProviderOrgID != p.OrgID {
			return errNotFound()
		}
		if c.Source != SourceIssued && p.Role != accounts.RoleAdmin {
			return errNotFound()
		}
		ok, err := st.Revoke(ctx, id, in.ReasonCategory, note, s.today(), p.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Conflict("already_revoked", "该证书已撤销")
		}
		if out, err = st.ByID(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "certificates.revoke", TargetType: "certificate", TargetID: strconv.FormatInt(id, 10),
			Summary: map[string]any{"number": c.Number, "reason_category": in.ReasonCategory}})
	})
	return out, err
}

// RevokeForBan revokes every valid certificate of the worker with reason
// banned, on day on, inside the ban's transaction tx; it returns how many.
func (s *Service) RevokeForBan(ctx context.Context, tx bun.IDB, workerID int64, on time.Time) (int, error) {
	ids, err := NewStore(tx).RevokeWorker(ctx, workerID, ReasonBanned, dateOnly(on.In(s.cfg.Location)))
	if err != nil {
		return 0, err
	}
	// A banned person gets no certificate: nothing is held for them either.
	if err := NewStore(tx).clearWorkerHolds(ctx, workerID); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := audit.Record(ctx, tx, audit.Event{Action: "certificates.revoke", TargetType: "certificate",
			TargetID: strconv.FormatInt(id, 10), Summary: map[string]any{"reason_category": ReasonBanned, "worker_id": workerID}}); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// Expire marks in-service training certificates past their last day
// expired (the certificates.expire job); it returns how many.
func (s *Service) Expire(ctx context.Context) (int, error) {
	return NewStore(s.db).Expire(ctx, s.today())
}

// errCode is the answer to a code that cannot be a verify code.
func errCode() *apperr.Error {
	return apperr.Invalid("invalid_code", "核验码格式不正确：应为 20 位字母数字，每 4 位一组，如 7K3M-9QX2-ABCD-EFGH-JKMN",
		apperr.FieldError{Field: "code", Code: "invalid_code", Message: "核验码格式不正确"})
}

// Verify answers for verify code raw (as typed: case, spaces and dashes do
// not matter). Errors: Invalid invalid_code; NotFound certificate_not_found.
func (s *Service) Verify(ctx context.Context, raw string) (Answer, error) {
	code, ok := NormalizeCode(raw)
	if !ok {
		return Answer{}, errCode()
	}
	c, err := NewStore(s.db).ByCode(ctx, code)
	if err != nil {
		if apperr.Is(err, "certificate_not_found") {
			return Answer{}, apperr.NotFound("certificate_not_found", "未找到该核验码对应的证书，请核对后重试")
		}
		return Answer{}, err
	}
	return answerOf(c), nil
}

// MaxUpload is the largest PDF the verify upload reads.
const MaxUpload = 10 << 20

// VerifyPDF answers for an uploaded PDF, matched by its SHA-256 to the
// digest stored at issue: a file changed in any byte answers "unknown".
// Errors: Unsupported not_pdf.
func (s *Service) VerifyPDF(ctx context.Context, data []byte) (Answer, error) {
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return Answer{}, apperr.Unsupported("not_pdf", "上传的文件不是 PDF 证书")
	}
	c, err := NewStore(s.db).BySHA256(ctx, Digest(data))
	if apperr.Is(err, "certificate_not_found") {
		return Answer{Status: "unknown"}, nil
	}
	if err != nil {
		return Answer{}, err
	}
	return answerOf(c), nil
}

// Keys returns the signing keys for GET /api/v1/verify/key: the current
// one and every one that ever signed.
func (s *Service) Keys(ctx context.Context) (KeySet, error) {
	signer := s.cfg.Signer
	// A public GET should not write on every call: the key is stored once
	// per process (issuing stores it too, inside its transaction).
	if !s.keyStored.Load() {
		if err := NewStore(s.db).EnsureKey(ctx, signer.KeyID, signer.Public()); err != nil {
			return KeySet{}, err
		}
		s.keyStored.Store(true)
	}
	ks, err := NewStore(s.db).Keys(ctx)
	if err != nil {
		return KeySet{}, err
	}
	cur := base64.StdEncoding.EncodeToString(signer.Public())
	out := KeySet{KeyID: signer.KeyID, Algorithm: "Ed25519", PublicKey: cur}
	for _, k := range ks {
		out.Keys = append(out.Keys, PublicKey{KeyID: k.KeyID, Algorithm: "Ed25519",
			PublicKey: base64.StdEncoding.EncodeToString(k.PublicKey), Current: k.KeyID == signer.KeyID})
	}
	return out, nil
}

// readers may list and read certificates.
var readers = []accounts.Role{accounts.RoleWorker, accounts.RoleProvider, accounts.RoleHRReviewer,
	accounts.RoleHRApprover, accounts.RoleRegulator, accounts.RoleAdmin}

// List returns a page of the certificates p may see that match f, newest
// first, and their total (see Browse). Errors: Forbidden forbidden_role.
func (s *Service) List(ctx context.Context, p *accounts.Principal, f Filter) ([]Certificate, int, error) {
	cs, total, _, err := s.Browse(ctx, p, f)
	return cs, total, err
}

// Browse returns a page of the certificates p may see that match f, newest
// first, with the total: exact up to pg.ExactUpTo, else the planner's
// estimate (estimate true). Errors: Forbidden forbidden_role.
func (s *Service) Browse(ctx context.Context, p *accounts.Principal, f Filter) ([]Certificate, int, bool, error) {
	if !p.Is(readers...) {
		return nil, 0, false, apperr.Forbidden("forbidden_role", "无权查看证书")
	}
	return NewStore(s.db).List(ctx, p, f)
}

// Get returns certificate id if p may see it. Errors: NotFound.
func (s *Service) Get(ctx context.Context, p *accounts.Principal, id int64) (Certificate, error) {
	if !p.Is(readers...) {
		return Certificate{}, errNotFound()
	}
	return NewStore(s.db).ForCaller(ctx, p, id)
}

// pdfReaders may download PDFs: the holder, the issuer, HR in scope, admins.
var pdfReaders = []accounts.Role{accounts.RoleWorker, accounts.RoleProvider, accounts.RoleHRReviewer,
	accounts.RoleHRApprover, accounts.RoleAdmin}

// PDF renders certificate id for p. Errors: NotFound (also outside scope);
// Conflict no_pdf for an external certificate.
func (s *Service) PDF(ctx context.Context, p *accounts.Principal, id int64) ([]byte, Certificate, error) {
	if !p.Is(pdfReaders...) {
		return nil, Certificate{}, errNotFound()
	}
	c, err := NewStore(s.db).ForCaller(ctx, p, id)
	if err != nil {
		return nil, Certificate{}, err
	}
	b, err := s.Render(ctx, c)
	return b, c, err
}

// Render draws issued certificate c with its template version and checks
// the bytes against the digest stored at issue: a file that would not
// verify is never handed out. Errors: Conflict no_pdf.
func (s *Service) Render(ctx context.Context, c Certificate) ([]byte, error) {
	if !c.HasPDF() {
		return nil, apperr.Conflict("no_pdf", "该证书由其他机构颁发，本平台仅作记录，没有电子证书文件")
	}
	t, err := NewStore(s.db).Template(ctx, c.TemplateID)
	if err != nil {
		return nil, err
	}
	b, err := s.cfg.Renderer.Render(c, t)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(Digest(b), c.PDFSHA256) {
		return nil, fmt.Errorf("certificate %s renders to another SHA-256 than at issue (font %s changed?)", c.Number, s.cfg.Renderer.FontPath())
	}
	return b, nil
}

// ExternalInput records a certificate issued elsewhere.
type ExternalInput struct {
	Kind       string `json:"kind"`
	Number     string `json:"number"`
	Occupation string `json:"occupation"`
	Level      *int   `json:"level"`
	IssuedOn   string `json:"issued_on"`
	Issuer     string `json:"issuer"`
	PlanCode   string `json:"plan_code"`
}

var occupations = []string{catalog.OccupationNursery, catalog.OccupationInfantCare, catalog.OccupationGuide, catalog.OccupationManager}

// RecordExternal records a certificate issued elsewhere for worker id
// (hr_reviewer or admin), without a PDF, so that subsidies can use it.
// Errors: Forbidden forbidden_role; NotFound worker_not_found (also
// outside scope); Invalid validation_failed; Conflict duplicate_number.
func (s *Service) RecordExternal(ctx context.Context, p *accounts.Principal, workerID int64, in ExternalInput) (Certificate, error) {
	if !p.Is(accounts.RoleHRReviewer, accounts.RoleAdmin) {
		return Certificate{}, apperr.Forbidden("forbidden_role", "只有人社审核员或平台管理员可以登记外部证书")
	}
	w, err := workers.NewStore(s.db).ByID(ctx, p, workerID)
	if err != nil {
		return Certificate{}, err
	}
	var fields []apperr.FieldError
	bad := func(field, code, msg string) {
		fields = append(fields, apperr.FieldError{Field: field, Code: code, Message: msg})
	}
	kind := Kind(in.Kind)
	if kind != KindSkill && kind != KindTraining {
		bad("kind", "invalid_kind", "证书类型应为 skill 或 training")
	}
	number := strings.TrimSpace(in.Number)
	if number == "" || len(number) > 40 || strings.ContainsAny(number, "\r\n\t") {
		bad("number", "invalid_number", "请填写证书编号（不超过 40 个字符）")
	}
	occ := strings.TrimSpace(in.Occupation)
	okOcc := false
	for _, o := range occupations {
		okOcc = okOcc || o == occ
	}
	if !okOcc {
		bad("occupation", "invalid_occupation", "职业代码应为 4-10-01-03、4-10-01-02、4-10-01-01 或 manager")
	}
	if in.Level != nil && (*in.Level < 1 || *in.Level > 5) {
		bad("level", "invalid_level", "等级应为 1–5")
	}
	if kind == KindSkill && in.Level == nil {
		bad("level", "level_required", "职业技能等级证书须填写等级")
	}
	issuedOn, err := time.Parse(time.DateOnly, strings.TrimSpace(in.IssuedOn))
	if err != nil {
		bad("issued_on", "invalid_date", "发证日期格式应为 YYYY-MM-DD")
	} else if issuedOn.After(s.today()) {
		bad("issued_on", "future_date", "发证日期不能晚于今天")
	}
	issuer := strings.TrimSpace(in.Issuer)
	if issuer == "" || utf8.RuneCountInString(issuer) > 100 || strings.ContainsAny(issuer, "\r\n") {
		bad("issuer", "invalid_issuer", "请填写发证机构（不超过 100 字）")
	}
	if len(fields) > 0 {
		return Certificate{}, apperr.Invalid("validation_failed", "证书信息有误", fields...)
	}
	region := w.RegionCode
	if region == "" {
		region = p.Region
	}
	if region == "" || region == "000000" {
		region = "420000"
	}
	c := Certificate{Kind: kind, Source: SourceExternal, Number: number, WorkerID: w.ID, RegionCode: region,
		PlanCode: strings.TrimSpace(in.PlanCode), Occupation: occ, Level: in.Level, HolderName: w.Name, HolderIDMask: w.IDMask,
		IssuerName: issuer, IssuedOn: issuedOn, IssuedAt: s.now().UTC().Truncate(time.Second), Status: StatusValid, RecordedBy: p.UserID}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.finish(ctx, tx, &c, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "certificates.record_external", TargetType: "certificate", TargetID: strconv.FormatInt(c.ID, 10),
			Summary: map[string]any{"number": c.Number, "worker_id": c.WorkerID}})
	})
	return c, err
}

// Templates lists template versions (admin). Errors: Forbidden.
func (s *Service) Templates(ctx context.Context, p *accounts.Principal) ([]Template, error) {
	if !p.Is(accounts.RoleAdmin) {
		return nil, apperr.Forbidden("forbidden_role", "只有平台管理员可以管理证书模板")
	}
	if _, err := s.currentTemplate(ctx, s.db); err != nil {
		return nil, err
	}
	return NewStore(s.db).Templates(ctx)
}

// TemplateInput is an uploaded template version.
type TemplateInput struct {
	Layout     string
	Title      string
	IssuerName string
	Signatory  string
	SealPNG    []byte
	Note       string
}

// AddTemplate stores a new template version (admin): certificates issued
// from now on use it; those issued before keep theirs. Errors: Forbidden;
// Invalid validation_failed, glyph_missing, invalid_seal.
func (s *Service) AddTemplate(ctx context.Context, p *accounts.Principal, in TemplateInput) (Template, error) {
	if !p.Is(accounts.RoleAdmin) {
		return Template{}, apperr.Forbidden("forbidden_role", "只有平台管理员可以管理证书模板")
	}
	var fields []apperr.FieldError
	text := func(field, v string, max int) string {
		v = strings.TrimSpace(v)
		if v == "" || utf8.RuneCountInString(v) > max || strings.ContainsAny(v, "\r\n") {
			fields = append(fields, apperr.FieldError{Field: field, Code: "invalid_" + field, Message: fmt.Sprintf("请填写（不超过 %d 字）", max)})
		}
		return v
	}
	t := Template{Layout: in.Layout, Title: text("title", in.Title, 40), IssuerName: text("issuer_name", in.IssuerName, 40),
		Signatory: text("signatory", in.Signatory, 40), SealPNG: in.SealPNG, Note: strings.TrimSpace(in.Note), CreatedBy: p.UserID}
	if t.Layout != "classic" && t.Layout != "plain" {
		fields = append(fields, apperr.FieldError{Field: "layout", Code: "invalid_layout", Message: "版式应为 classic 或 plain"})
	}
	if len(t.SealPNG) > 1<<20 {
		fields = append(fields, apperr.FieldError{Field: "seal", Code: "seal_too_large", Message: "印章图片不能超过 1 MB"})
	}
	if len(fields) > 0 {
		return Template{}, apperr.Invalid("validation_failed", "模板信息有误", fields...)
	}
	if err := CheckSeal(t.SealPNG); err != nil {
		return Template{}, err
	}
	if err := s.cfg.Renderer.CheckText(t.Title, t.IssuerName, t.Signatory); err != nil {
		return Template{}, err
	}
	if len(t.SealPNG) == 0 {
		t.SealPNG = nil
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := NewStore(tx).InsertTemplate(ctx, &t); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "certificates.template", TargetType: "certificate_template", TargetID: strconv.FormatInt(t.ID, 10),
			Summary: map[string]any{"version": t.Version, "layout": t.Layout}})
	})
	return t, err
}

// RemindExpiring tells the holders of valid certificates that expire
// within 30 days, once per certificate (a dedupe key), in their inbox; it
// returns how many certificates it looked at. It is the certificates' part
// of the reminders.send job.
func (s *Service) RemindExpiring(ctx context.Context) (int, error) {
	today := s.today()
	cs, err := NewStore(s.db).Expiring(ctx, today, today.AddDate(0, 0, 30))
	if err != nil {
		return 0, err
	}
	msgs := make([]notify.Message, 0, len(cs))
	for _, c := range cs {
		msgs = append(msgs, notify.Message{WorkerID: c.WorkerID, Kind: "certificates.expiring",
			Title: "证书即将到期：" + c.Number,
			Body: fmt.Sprintf("您的%s（%s）将于 %s 到期，请及时参加在岗培训。", c.Kind.Label(), c.PlanName,
				c.ExpiresOn.Format(time.DateOnly)),
			Link: "/certificates/" + strconv.FormatInt(c.ID, 10), DedupeKey: "certificates.expiring:" + strconv.FormatInt(c.ID, 10)})
	}
	return len(cs), notify.Send(ctx, s.db, msgs...)
}

// RevokeForEnrolment revokes the valid certificate of enrolment
// enrolmentID with reason category (issued_in_error when a corrected result
// takes the pass away) inside the caller's transaction tx; it reports
// whether one was revoked (none issued, or already revoked: false).
func (s *Service) RevokeForEnrolment(ctx context.Context, tx bun.IDB, enrolmentID int64, category, note string) (bool, error) {
	st := NewStore(tx)
	// A pass taken away takes its held certificate with it.
	if err := st.clearHold(ctx, enrolmentID); err != nil {
		return false, err
	}
	c, err := st.ByEnrolment(ctx, enrolmentID)
	if err != nil || c == nil || c.Status != StatusValid {
		return false, err
	}
	ok, err := st.Revoke(ctx, c.ID, category, note, s.today(), 0)
	if err != nil || !ok {
		return false, err
	}
	return true, audit.Record(ctx, tx, audit.Event{Action: "certificates.revoke", TargetType: "certificate",
		TargetID: strconv.FormatInt(c.ID, 10), Summary: map[string]any{"number": c.Number, "reason_category": category,
			"enrolment_id": enrolmentID}})
}
