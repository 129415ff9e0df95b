// Package certificates issues, renders, verifies and revokes certificates
// (DESIGN §7): training certificates (培训合格证书) for plans without a level
// and skill-level certificates (职业技能等级证书) for plans with one, plus
// certificates issued elsewhere that HR records for subsidies.
//
// A certificate's PDF is rendered on demand from the stored row and the
// template version it was issued with; rendering is deterministic, so the
// SHA-256 stored at issue identifies a genuine file. Verification answers
// carry an Ed25519 signature over the certificate's canonical fields.
package certificates

import (
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/catalog"
)

// Kind is the kind of certificate.
type Kind string

// Kinds of certificate.
const (
	KindTraining Kind = "training" // 培训合格证书
	KindSkill    Kind = "skill"    // 职业技能等级证书
)

// Label is the Chinese name of k.
func (k Kind) Label() string {
	if k == KindSkill {
		return "职业技能等级证书"
	}
	return "培训合格证书"
}

// Source says where a certificate comes from.
type Source string

// Sources: issued by this system (with a PDF) or recorded from elsewhere.
const (
	SourceIssued   Source = "issued"
	SourceExternal Source = "external"
)

// Status is a certificate's standing.
type Status string

// Statuses (DESIGN §7).
const (
	StatusValid   Status = "valid"
	StatusRevoked Status = "revoked"
	StatusExpired Status = "expired"
)

// Label is the Chinese name of s.
func (s Status) Label() string {
	switch s {
	case StatusValid:
		return "有效"
	case StatusRevoked:
		return "已撤销"
	case StatusExpired:
		return "已过期"
	}
	return string(s)
}

// Revocation reason categories.
const (
	ReasonBanned        = "banned"
	ReasonFraud         = "fraud"
	ReasonIssuedInError = "issued_in_error"
)

// ReasonLabel is the Chinese name of a revocation reason category.
func ReasonLabel(r string) string {
	switch r {
	case ReasonBanned:
		return "终身禁入"
	case ReasonFraud:
		return "弄虚作假"
	case ReasonIssuedInError:
		return "误发"
	}
	return r
}

// Certificate is one certificate.
type Certificate struct {
	bun.BaseModel `bun:"table:certificates,alias:ce"`

	ID            int64          `bun:"id,pk,autoincrement"`
	Kind          Kind           `bun:"kind,notnull"`
	Source        Source         `bun:"source,notnull"`
	Number        string         `bun:"number,notnull"`
	VerifyCode    string         `bun:"verify_code,notnull"`
	WorkerID      int64          `bun:"worker_id,notnull"`
	EnrolmentID   int64          `bun:"enrolment_id,nullzero"`
	ClassID       int64          `bun:"class_id,nullzero"`
	ProviderOrgID int64          `bun:"provider_org_id,nullzero"`
	RegionCode    string         `bun:"region_code,notnull"`
	PlanCode      string         `bun:"plan_code,notnull"`
	PlanName      string         `bun:"plan_name,notnull"`
	Occupation    string         `bun:"occupation,notnull"`
	Level         *int           `bun:"level"`
	Hours         *catalog.Hours `bun:"hours,type:numeric(6,1)"`
	HolderName    string         `bun:"holder_name,notnull"`
	HolderIDMask  string         `bun:"holder_id_mask,notnull"`
	IssuerName    string         `bun:"issuer_name,notnull"`
	IssuedOn      time.Time      `bun:"issued_on,type:date,notnull"`
	IssuedAt      time.Time      `bun:"issued_at,notnull"`
	ExpiresOn     *time.Time     `bun:"expires_on,type:date"`
	VerifyURL     string         `bun:"verify_url,notnull"`
	TemplateID    int64          `bun:"template_id,nullzero"`
	PDFSHA256     []byte         `bun:"pdf_sha256"`
	Signature     []byte         `bun:"signature,notnull"`
	KeyID         string         `bun:"key_id,notnull"`
	Status        Status         `bun:"status,notnull"`
	RevokedOn     *time.Time     `bun:"revoked_on,type:date"`
	RevokeReason  string         `bun:"revoke_reason,nullzero"`
	RevokeNote    string         `bun:"revoke_note,notnull"`
	RevokedBy     int64          `bun:"revoked_by,nullzero"`
	RecordedBy    int64          `bun:"recorded_by,nullzero"`
	CreatedAt     time.Time      `bun:"created_at,nullzero,notnull,default:now()"`
}

// OccupationLabel is the certificate's occupation in Chinese.
func (c Certificate) OccupationLabel() string { return catalog.OccupationLabel(c.Occupation) }

// LevelLabel is the certificate's level in Chinese ("" without one).
func (c Certificate) LevelLabel() string {
	if c.Level == nil {
		return ""
	}
	return catalog.LevelLabel(*c.Level)
}

// HasPDF reports whether the certificate has a PDF (issued here).
func (c Certificate) HasPDF() bool { return c.Source == SourceIssued }

// Template is one version of the certificate layout.
type Template struct {
	bun.BaseModel `bun:"table:certificate_templates,alias:ct"`

	ID         int64     `bun:"id,pk,autoincrement"`
	Version    int       `bun:"version,notnull"`
	Layout     string    `bun:"layout,notnull"`
	Title      string    `bun:"title,notnull"`
	IssuerName string    `bun:"issuer_name,notnull"`
	Signatory  string    `bun:"signatory,notnull"`
	SealPNG    []byte    `bun:"seal_png"`
	Note       string    `bun:"note,notnull"`
	CreatedBy  int64     `bun:"created_by,nullzero"`
	CreatedAt  time.Time `bun:"created_at,nullzero,notnull,default:now()"`
}

// Layouts a template may use.
var Layouts = []string{"classic", "plain"}

// IssueInput is what issuing a certificate needs from the caller who knows
// of the pass or completion; everything else is read from the owning
// modules.
type IssueInput struct {
	WorkerID      int64
	EnrolmentID   int64
	ClassID       int64
	ProviderOrgID int64
	PlanCode      string
	PassedOn      time.Time // the day of the pass, or of completion for plans without assessment
}

// Export is a background ZIP of a class's certificates.
type Export struct {
	bun.BaseModel `bun:"table:certificate_exports,alias:cx"`

	ID          int64      `bun:"id,pk,autoincrement"`
	ClassID     int64      `bun:"class_id,notnull"`
	RequestedBy int64      `bun:"requested_by,notnull"`
	Status      string     `bun:"status,notnull"`
	Progress    int        `bun:"progress,notnull"`
	Total       int        `bun:"total,notnull"`
	FileName    string     `bun:"file_name,notnull"`
	Error       string     `bun:"error,notnull"`
	CreatedAt   time.Time  `bun:"created_at,nullzero,notnull,default:now()"`
	HeartbeatAt time.Time  `bun:"heartbeat_at,nullzero,notnull,default:now()"`
	FinishedAt  *time.Time `bun:"finished_at"`
	ExpiresAt   time.Time  `bun:"expires_at,notnull"`
}

// Percent is the export's progress, 0–100.
func (e Export) Percent() int {
	if e.Total == 0 {
		if e.Status == "running" {
			return 0
		}
		return 100
	}
	return e.Progress * 100 / e.Total
}

func levelLabel(l int) string { return catalog.LevelLabel(l) }

// ReasonLabel is the revocation reason in Chinese.
func (c Certificate) ReasonLabel() string { return ReasonLabel(c.RevokeReason) }
