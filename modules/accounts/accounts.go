// Package accounts owns users, passwords, server-side sessions, organisation
// API tokens, and the caller's identity and scope (Principal, Scope) that every
// other module uses to filter what a user may see.
package accounts

import (
	"time"

	"github.com/uptrace/bun"
)

// Role is what a user may do (DESIGN §2).
type Role string

// The roles. RoleInstitution is staff of a childcare institution: they may
// check the ban list before hiring.
const (
	RoleWorker      Role = "worker"
	RoleCollege     Role = "college"
	RoleProvider    Role = "provider"
	RoleInstitution Role = "institution"
	RoleHRReviewer  Role = "hr_reviewer"
	RoleHRApprover  Role = "hr_approver"
	RoleRegulator   Role = "regulator"
	RoleAdmin       Role = "admin"
)

// Roles lists every role, in the order pages show them.
var Roles = []Role{RoleWorker, RoleCollege, RoleProvider, RoleInstitution, RoleHRReviewer, RoleHRApprover, RoleRegulator, RoleAdmin}

// Label is the Chinese name of the role.
func (r Role) Label() string {
	switch r {
	case RoleWorker:
		return "学员"
	case RoleCollege:
		return "院校"
	case RoleProvider:
		return "培训机构"
	case RoleInstitution:
		return "托育机构"
	case RoleHRReviewer:
		return "人社审核员"
	case RoleHRApprover:
		return "人社审批员"
	case RoleRegulator:
		return "卫健监管员"
	case RoleAdmin:
		return "系统管理员"
	}
	return string(r)
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// OrgKindFor is the organisation kind a user of role r belongs to ("" for workers).
func OrgKindFor(r Role) string {
	switch r {
	case RoleCollege:
		return "college"
	case RoleProvider:
		return "provider"
	case RoleInstitution:
		return "institution"
	case RoleHRReviewer, RoleHRApprover:
		return "hr_bureau"
	case RoleRegulator:
		return "regulator"
	case RoleAdmin:
		return "admin"
	}
	return ""
}

// User is a person who logs in.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID             int64  `bun:"id,pk,autoincrement"`
	Username       string `bun:"username"`
	DisplayName    string `bun:"display_name"`
	Role           Role   `bun:"role"`
	OrganisationID int64  `bun:"organisation_id,nullzero"`
	WorkerID       int64  `bun:"worker_id,nullzero"`
	PasswordHash   string `bun:"password_hash"`
	Active         bool   `bun:"active"`
	// MustChangePassword is set by an admin's reset: until the user picks a
	// new password, every request but the change itself is refused.
	MustChangePassword bool      `bun:"must_change_password"`
	CreatedAt          time.Time `bun:"created_at,nullzero,default:now()"`
	UpdatedAt          time.Time `bun:"updated_at,nullzero,default:now()"`
}

// Session is a server-side login session; the cookie holds the raw id, the
// table only its SHA-256.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	IDHash     []byte    `bun:"id_hash,pk"`
	UserID     int64     `bun:"user_id"`
	CSRFToken  string    `bun:"csrf_token"`
	CreatedAt  time.Time `bun:"created_at"`
	LastSeenAt time.Time `bun:"last_seen_at"`
	IP         string    `bun:"ip"`
	UserAgent  string    `bun:"user_agent"`
}

// APIToken lets an organisation's system call the API (e.g. a college pushing
// its roster). Only the SHA-256 of the token is stored.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID             int64      `bun:"id,pk,autoincrement" json:"id"`
	OrganisationID int64      `bun:"organisation_id" json:"organisation_id"`
	Name           string     `bun:"name" json:"name"`
	Prefix         string     `bun:"prefix" json:"prefix"`
	TokenHash      []byte     `bun:"token_hash" json:"-"`
	CreatedBy      int64      `bun:"created_by,nullzero" json:"created_by,omitempty"`
	CreatedAt      time.Time  `bun:"created_at,nullzero,default:now()" json:"created_at"`
	LastUsedAt     *time.Time `bun:"last_used_at" json:"last_used_at"`
	RevokedAt      *time.Time `bun:"revoked_at" json:"revoked_at"`
	OrgName        string     `bun:"org_name,scanonly" json:"organisation_name,omitempty"`
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID   int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"display_name"`
	Role     Role   `json:"role"`
	OrgID    int64  `json:"organisation_id,omitempty"`
	OrgCode  string `json:"organisation_code,omitempty"`
	OrgName  string `json:"organisation_name,omitempty"`
	OrgKind  string `json:"organisation_kind,omitempty"`
	Region   string `json:"region,omitempty"` // the organisation's region; workers have none
	WorkerID int64  `json:"worker_id,omitempty"`
	TokenID  int64  `json:"-"` // set when the caller is an API token, not a user
	// MustChangePassword: the user has to choose a new password first.
	MustChangePassword bool `json:"must_change_password,omitempty"`
}

// Is reports whether p has one of roles.
func (p *Principal) Is(roles ...Role) bool {
	if p == nil {
		return false
	}
	for _, r := range roles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// IsStaff reports whether p works for an organisation (not a worker).
func (p *Principal) IsStaff() bool { return p != nil && p.Role != RoleWorker }
