package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/pg"
	"tuoyu/modules/pii"
)

// Login and session rules.
const (
	MaxFailures   = 5                // failed logins …
	FailureWindow = 15 * time.Minute // … within this window lock the account
	LockDuration  = 15 * time.Minute // for this long
	IdleTimeout   = 30 * time.Minute // a session unused this long ends
	// AbsoluteTimeout ends every session this long after login, however
	// busy (等保 2.0 level 3 asks for both timeouts).
	AbsoluteTimeout = 12 * time.Hour
	touchEvery      = time.Minute // last-seen is written at most this often
)

// Service holds the account use cases.
type Service struct {
	db   *bun.DB
	now  func() time.Time
	prep *pg.Prepared // the session look-up every request makes
}

// NewService returns the accounts service.
func NewService(db *bun.DB, now func() time.Time) *Service {
	return &Service{db: db, now: now, prep: pg.NewPrepared(db)}
}

// Prepared is the set of prepared statements the session look-up runs on,
// for the plan guard to observe.
func (s *Service) Prepared() *pg.Prepared { return s.prep }

// LoginResult is what a successful login yields: the raw session id for the
// cookie (never stored), the CSRF token and the principal.
type LoginResult struct {
	SessionID string
	CSRFToken string
	Principal Principal
}

// Login checks a username and password and opens a session. Errors:
// Unauthorized invalid_credentials, RateLimited account_locked.
func (s *Service) Login(ctx context.Context, username, password, ip, userAgent string) (LoginResult, error) {
	now := s.now()
	st := NewStore(s.db)
	username = strings.TrimSpace(username)
	row, err := st.UserByUsername(ctx, username)
	if err != nil && apperr.KindOf(err) != apperr.KindNotFound {
		return LoginResult{}, fmt.Errorf("login %s: %w", label(username, 0), err)
	}
	// People type their phone or ID number where the username goes: an
	// unknown name is counted and stored with its long digit runs masked.
	name := label(username, row.ID)
	fails, err := st.RecentFailures(ctx, name, now.Add(-FailureWindow))
	if err != nil {
		return LoginResult{}, fmt.Errorf("login %s: %w", name, err)
	}
	if fails >= MaxFailures {
		// Attempts while locked are not counted, so the lock ends LockDuration
		// after the failure that set it.
		return LoginResult{}, apperr.RateLimited("account_locked", "登录失败次数过多，账号已锁定 15 分钟，请稍后再试")
	}
	ok := false
	if err == nil {
		ok = CheckPassword(row.PasswordHash, password) && row.Active
	} else {
		CheckPassword(dummyHash, password)
	}
	if !ok {
		// The attempt and its audit event are one write: a failed login is
		// always on the trail, and the one that locks the account says so.
		locked := fails+1 >= MaxFailures
		err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := NewStore(tx).RecordAttempt(ctx, name, false, ip, now); err != nil {
				return err
			}
			ev := audit.Event{ActorLabel: truncate(name, 40), Action: "accounts.login_failed", TargetType: "user",
				Summary: map[string]any{"failures_in_window": fails + 1, "known_user": row.ID != 0}}
			if row.ID != 0 {
				ev.TargetID = strconv.FormatInt(row.ID, 10)
			}
			if err := audit.Record(ctx, tx, ev); err != nil {
				return err
			}
			if locked {
				ev.Action, ev.Summary = "accounts.locked", map[string]any{"minutes": int(LockDuration / time.Minute)}
				return audit.Record(ctx, tx, ev)
			}
			return nil
		})
		if err != nil {
			return LoginResult{}, fmt.Errorf("login %s: record failure: %w", name, err)
		}
		if locked {
			return LoginResult{}, apperr.RateLimited("account_locked", "登录失败次数过多，账号已锁定 15 分钟，请稍后再试")
		}
		return LoginResult{}, apperr.Unauthorized("invalid_credentials", "用户名或密码错误")
	}
	if err := st.RecordAttempt(ctx, username, true, ip, now); err != nil {
		return LoginResult{}, fmt.Errorf("login %s: record attempt: %w", username, err)
	}
	sid, csrf := randomToken(32), randomToken(24)
	ss := &Session{IDHash: hashToken(sid), UserID: row.ID, CSRFToken: csrf, CreatedAt: now, LastSeenAt: now, IP: ip, UserAgent: truncate(userAgent, 200)}
	p := row.principal()
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := NewStore(tx).InsertSession(ctx, ss); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, ActorLabel: p.Username,
			Action: "accounts.login", TargetType: "user", TargetID: strconv.FormatInt(p.UserID, 10)})
	})
	if err != nil {
		return LoginResult{}, fmt.Errorf("login %s: open session: %w", username, err)
	}
	return LoginResult{SessionID: sid, CSRFToken: csrf, Principal: p}, nil
}

// Authenticate returns the principal and session for a raw session id.
// Errors: Unauthorized session_expired.
func (s *Service) Authenticate(ctx context.Context, sessionID string) (Principal, Session, error) {
	st := NewStore(s.db).WithPrepared(s.prep)
	h := hashToken(sessionID)
	ss, row, err := st.SessionWithUser(ctx, h)
	if err != nil {
		return Principal{}, ss, err
	}
	now := s.now()
	if now.Sub(ss.LastSeenAt) > IdleTimeout {
		_ = st.DeleteSession(ctx, h)
		return Principal{}, ss, apperr.Unauthorized("session_expired", "长时间未操作，登录已失效，请重新登录")
	}
	if now.Sub(ss.CreatedAt) > AbsoluteTimeout {
		_ = st.DeleteSession(ctx, h)
		return Principal{}, ss, apperr.Unauthorized("session_expired", "登录已超过 12 小时，请重新登录")
	}
	if !row.Active {
		_ = st.DeleteSession(ctx, h)
		return Principal{}, ss, apperr.Unauthorized("session_expired", "登录已失效，请重新登录")
	}
	if now.Sub(ss.LastSeenAt) > touchEvery {
		if err := st.TouchSession(ctx, h, now); err != nil {
			return Principal{}, ss, fmt.Errorf("touch session: %w", err)
		}
	}
	return row.principal(), ss, nil
}

// Logout ends a session (audited); ending an unknown session is not an error.
// Errors: only internal ones (database).
func (s *Service) Logout(ctx context.Context, sessionID string) error {
	h := hashToken(sessionID)
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		_, row, err := st.SessionWithUser(ctx, h)
		if apperr.KindOf(err) == apperr.KindUnauthorized {
			return nil
		}
		if err != nil {
			return err
		}
		if err := st.DeleteSession(ctx, h); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: row.ID, ActorOrgID: row.OrganisationID, ActorLabel: row.Username,
			Action: "accounts.logout", TargetType: "user", TargetID: strconv.FormatInt(row.ID, 10)})
	})
}

// ExpireIdleSessions deletes sessions idle longer than IdleTimeout or
// older than AbsoluteTimeout. Errors: only internal ones (database).
func (s *Service) ExpireIdleSessions(ctx context.Context) (int64, error) {
	now := s.now()
	return NewStore(s.db).DeleteIdleSessions(ctx, now.Add(-IdleTimeout), now.Add(-AbsoluteTimeout))
}

// AuthenticateToken returns the principal of an organisation API token: it
// acts with the role that matches its organisation's kind.
// Errors: Unauthorized invalid_token.
func (s *Service) AuthenticateToken(ctx context.Context, raw string) (Principal, error) {
	st := NewStore(s.db)
	t, err := st.TokenByHash(ctx, hashToken(raw))
	if err != nil {
		return Principal{}, err
	}
	p, err := st.OrgForToken(ctx, t)
	if err != nil {
		return Principal{}, err
	}
	switch p.OrgKind {
	case "college":
		p.Role = RoleCollege
	case "provider":
		p.Role = RoleProvider
	case "institution":
		p.Role = RoleInstitution
	default:
		return Principal{}, apperr.Unauthorized("invalid_token", "该机构类型不能使用 API 令牌")
	}
	p.TokenID = t.ID
	p.Username = "token:" + t.Name
	p.Name = t.Name
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > touchEvery {
		if err := st.TouchToken(ctx, t.ID, now); err != nil {
			return Principal{}, fmt.Errorf("touch token: %w", err)
		}
	}
	return p, nil
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Username    string
	DisplayName string
	Role        Role
	OrgCode     string // required for every role but worker
	WorkerID    int64  // required for workers
	Password    string
	// Demo marks the demo seed, the one caller allowed to set the public
	// demo password (docs/security.md); the character rule still applies.
	Demo bool
}

// CreateUser checks the input and the password rule and stores the user.
// Errors: Invalid (fields), Conflict username_taken.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (int64, error) {
	var u User
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		u, err = CreateUserTx(ctx, tx, in)
		return err
	})
	return u.ID, err
}

// CreateUserTx is CreateUser inside the caller's transaction, for modules
// (such as the demo seed of workers) that create a user with their own rows.
// Errors: Invalid invalid_user, unknown_organisation, unknown_worker, weak_password; Conflict username_taken, worker_has_login.
func CreateUserTx(ctx context.Context, tx bun.IDB, in NewUser) (User, error) {
	var fields []apperr.FieldError
	in.Username = strings.TrimSpace(in.Username)
	if len(in.Username) < 3 || len(in.Username) > 40 || strings.Trim(in.Username, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != "" {
		fields = append(fields, apperr.FieldError{Field: "username", Code: "invalid_username", Message: "用户名为 3–40 位字母、数字或 _ . -"})
	}
	if !in.Role.Valid() {
		fields = append(fields, apperr.FieldError{Field: "role", Code: "invalid_role", Message: "未知角色"})
	}
	check := CheckNewPassword
	if in.Demo {
		check = func(_, p string) error { return CheckPasswordRule(p) }
	}
	if err := check(in.Username, in.Password); err != nil {
		e, _ := apperr.As(err)
		fields = append(fields, e.Fields...)
	}
	u := User{Username: in.Username, DisplayName: strings.TrimSpace(in.DisplayName), Role: in.Role, Active: true}
	st := NewStore(tx)
	if in.Role == RoleWorker {
		if in.WorkerID <= 0 {
			fields = append(fields, apperr.FieldError{Field: "worker_id", Code: "required", Message: "学员账号须关联学员档案"})
		}
		u.WorkerID = in.WorkerID
	} else if in.Role.Valid() {
		id, kind, _, err := st.OrgByCode(ctx, in.OrgCode)
		switch {
		case apperr.KindOf(err) == apperr.KindInvalid:
			e, _ := apperr.As(err)
			fields = append(fields, e.Fields...)
		case err != nil:
			return u, fmt.Errorf("create user %s: %w", in.Username, err)
		case kind != OrgKindFor(in.Role):
			fields = append(fields, apperr.FieldError{Field: "organisation", Code: "role_org_mismatch",
				Message: "角色「" + in.Role.Label() + "」不能属于该类型的机构"})
		}
		u.OrganisationID = id
	}
	if len(fields) > 0 {
		return u, apperr.Invalid("invalid_user", "用户信息有误", fields...)
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return u, err
	}
	u.PasswordHash = hash
	if err := st.InsertUser(ctx, &u); err != nil {
		return u, err
	}
	err = audit.Record(ctx, tx, audit.Event{Action: "accounts.user_create", TargetType: "user",
		TargetID: strconv.FormatInt(u.ID, 10), Summary: map[string]any{"username": u.Username, "role": u.Role}})
	return u, err
}

// SetActive enables or disables a user (admin). Errors: NotFound.
func (s *Service) SetActive(ctx context.Context, id int64, active bool) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		if _, err := st.UserByID(ctx, id); err != nil {
			return err
		}
		if err := st.SetActive(ctx, id, active); err != nil {
			return err
		}
		if !active {
			if err := st.DeleteUserSessions(ctx, id); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Event{Action: "accounts.user_set_active", TargetType: "user",
			TargetID: strconv.FormatInt(id, 10), Summary: map[string]any{"active": active}})
	})
}

// SetPassword is an admin's reset: it replaces user id's password with a
// temporary one, ends their sessions and makes them choose a new password
// at their next login. Errors: Invalid weak_password, NotFound.
func (s *Service) SetPassword(ctx context.Context, id int64, password string) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		row, err := st.UserByID(ctx, id)
		if err != nil {
			return err
		}
		if err := s.replacePassword(ctx, st, row.ID, row.Username, password, true); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "accounts.password_set", TargetType: "user", TargetID: strconv.FormatInt(id, 10),
			Summary: map[string]any{"must_change": true}})
	})
}

// ChangePassword is a user choosing their own new password (also the end
// of a forced reset): the current password must match. Every session of
// the user ends; they log in again with the new one.
// Errors: Invalid weak_password, wrong_password, same_password; NotFound.
func (s *Service) ChangePassword(ctx context.Context, userID int64, current, next string) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		row, err := st.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		// The rule first: it costs nothing, the hash check costs 50 ms.
		if err := CheckNewPassword(row.Username, next); err != nil {
			return err
		}
		if current == next {
			return apperr.Invalid("same_password", "新密码不能与当前密码相同",
				apperr.FieldError{Field: "password", Code: "same_password", Message: "新密码不能与当前密码相同"})
		}
		if !CheckPassword(row.PasswordHash, current) {
			return apperr.Invalid("wrong_password", "当前密码不正确",
				apperr.FieldError{Field: "current_password", Code: "wrong_password", Message: "当前密码不正确"})
		}
		if err := s.replacePassword(ctx, st, row.ID, row.Username, next, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{ActorUserID: row.ID, ActorOrgID: row.OrganisationID, ActorLabel: row.Username,
			Action: "accounts.password_change", TargetType: "user", TargetID: strconv.FormatInt(row.ID, 10)})
	})
}

// replacePassword checks and stores a new password, sets or clears the
// forced change and ends the user's sessions.
func (s *Service) replacePassword(ctx context.Context, st Store, id int64, username, password string, mustChange bool) error {
	if err := CheckNewPassword(username, password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := st.UpdatePassword(ctx, id, hash); err != nil {
		return err
	}
	if err := st.SetMustChangePassword(ctx, id, mustChange); err != nil {
		return err
	}
	return st.DeleteUserSessions(ctx, id)
}

// HasUsers reports whether any user exists (an empty database gets the demo
// world on request). Errors: only internal ones (database).
func (s *Service) HasUsers(ctx context.Context) (bool, error) { return NewStore(s.db).AnyUser(ctx) }

// ListUsers lists users for the admin pages. Errors: only internal ones (database).
func (s *Service) ListUsers(ctx context.Context, q string, page, perPage int) ([]UserListRow, int, error) {
	return NewStore(s.db).ListUsers(ctx, strings.TrimSpace(q), perPage, (page-1)*perPage)
}

// PrincipalByUsername loads a user as a principal (CLI and tests). Errors: NotFound user_not_found.
func (s *Service) PrincipalByUsername(ctx context.Context, username string) (Principal, error) {
	row, err := NewStore(s.db).UserByUsername(ctx, username)
	if err != nil {
		return Principal{}, err
	}
	return row.principal(), nil
}

// CreateToken makes an API token for an organisation and returns the raw
// token, shown once. Errors: Invalid.
func (s *Service) CreateToken(ctx context.Context, orgCode, name string, createdBy int64) (string, APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 50 {
		return "", APIToken{}, apperr.Invalid("invalid_token_name", "请填写令牌名称（不超过 50 字）",
			apperr.FieldError{Field: "name", Code: "invalid_name", Message: "请填写令牌名称（不超过 50 字）"})
	}
	raw := "tuoyu_" + randomToken(30)
	t := APIToken{Name: name, Prefix: raw[:12], TokenHash: hashToken(raw), CreatedBy: createdBy}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		id, kind, _, err := st.OrgByCode(ctx, orgCode)
		if err != nil {
			return err
		}
		if kind != "college" && kind != "provider" && kind != "institution" {
			return apperr.Invalid("token_org_kind", "只有院校、培训机构和托育机构可以使用 API 令牌",
				apperr.FieldError{Field: "organisation", Code: "token_org_kind", Message: "该机构类型不能使用 API 令牌"})
		}
		t.OrganisationID = id
		if err := st.InsertToken(ctx, &t); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "accounts.token_create", TargetType: "api_token",
			TargetID: strconv.FormatInt(t.ID, 10), Summary: map[string]any{"name": name, "organisation": orgCode, "prefix": t.Prefix}})
	})
	if err != nil {
		return "", APIToken{}, err
	}
	return raw, t, nil
}

// RevokeToken revokes a token. Errors: NotFound when absent or already revoked.
func (s *Service) RevokeToken(ctx context.Context, id int64) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ok, err := NewStore(tx).RevokeToken(ctx, id, s.now())
		if err != nil {
			return err
		}
		if !ok {
			return apperr.NotFound("token_not_found", "令牌不存在或已撤销")
		}
		return audit.Record(ctx, tx, audit.Event{Action: "accounts.token_revoke", TargetType: "api_token", TargetID: strconv.FormatInt(id, 10)})
	})
}

// ListTokens lists every organisation's tokens (admin). Errors: only internal ones (database).
func (s *Service) ListTokens(ctx context.Context) ([]APIToken, error) {
	return NewStore(s.db).ListTokens(ctx, 0)
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system's random source failing is not recoverable
	}
	if n == 30 {
		return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

var digitRun = regexp.MustCompile(`[0-9]{6,}[0-9Xx]?`)

// label is how a login attempt names the user: as typed for a known user,
// with digit runs masked for an unknown one.
func label(username string, userID int64) string {
	if userID != 0 {
		return username
	}
	return maskDigitRuns(username)
}

// maskDigitRuns masks every run of six digits or more in s (a phone number:
// 138****5678; an ID number: 420106********1234).
func maskDigitRuns(s string) string {
	return digitRun.ReplaceAllStringFunc(s, func(run string) string {
		if len(run) >= 15 {
			return pii.MaskID(run)
		}
		return pii.MaskPhone(run)
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
