package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/orgs"
	"tuoyu/modules/pg"
)

// Store reads and writes users, sessions, login attempts and API tokens.
type Store struct {
	db   bun.IDB
	prep *pg.Prepared // nil: SessionWithUser is planned on every call
}

// NewStore returns a Store on db (the database or a transaction).
func NewStore(db bun.IDB) Store { return Store{db: db} }

// WithPrepared returns s with SessionWithUser run as a prepared statement
// of prep (on prep's pool, so not inside a transaction of s).
func (s Store) WithPrepared(prep *pg.Prepared) Store { s.prep = prep; return s }

// principalRow is a user joined with their organisation.
type principalRow struct {
	User
	OrgCode   string `bun:"org_code"`
	OrgName   string `bun:"org_name"`
	OrgKind   string `bun:"org_kind"`
	OrgRegion string `bun:"org_region"`
}

func (r principalRow) principal() Principal {
	return Principal{
		UserID: r.ID, Username: r.Username, Name: r.DisplayName, Role: r.Role,
		OrgID: r.OrganisationID, OrgCode: r.OrgCode, OrgName: r.OrgName, OrgKind: r.OrgKind,
		Region: r.OrgRegion, WorkerID: r.WorkerID, MustChangePassword: r.MustChangePassword,
	}
}

func (s Store) selectPrincipal(ctx context.Context, where string, arg any) (principalRow, error) {
	var r principalRow
	q := s.db.NewSelect().
		TableExpr("users AS u").
		ColumnExpr("u.*").
		ColumnExpr("coalesce(o.code, '') AS org_code, coalesce(o.name, '') AS org_name").
		ColumnExpr("coalesce(o.kind, '') AS org_kind, coalesce(o.region_code, '') AS org_region")
	err := orgs.JoinOrganisation(q, "o", "u.organisation_id").Where(where, arg).Scan(ctx, &r)
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.NotFound("user_not_found", "用户不存在")
	}
	if err != nil {
		return r, fmt.Errorf("select user: %w", err)
	}
	return r, nil
}

// UserByUsername returns the user (with organisation) named username.
// Errors: NotFound user_not_found.
func (s Store) UserByUsername(ctx context.Context, username string) (principalRow, error) {
	return s.selectPrincipal(ctx, "lower(u.username) = lower(?)", username)
}

// UserByID returns the user (with organisation) with id. Errors: NotFound user_not_found.
func (s Store) UserByID(ctx context.Context, id int64) (principalRow, error) {
	return s.selectPrincipal(ctx, "u.id = ?", id)
}

// InsertUser stores u and sets its ID; a taken username is a conflict.
// Errors: Invalid unknown_worker; Conflict username_taken, worker_has_login.
func (s Store) InsertUser(ctx context.Context, u *User) error {
	_, err := s.db.NewInsert().Model(u).ExcludeColumn("id", "created_at", "updated_at").Returning("id").Exec(ctx)
	switch _, name := pg.Violation(err); name {
	case "users_worker_id_key":
		return apperr.Conflict("worker_has_login", "该学员档案已有登录账号")
	case "users_worker_fk":
		return apperr.Invalid("unknown_worker", "学员档案不存在",
			apperr.FieldError{Field: "worker_id", Code: "unknown_worker", Message: "学员档案不存在"})
	}
	if pg.IsUnique(err, "") {
		return apperr.Conflict("username_taken", "用户名已被使用")
	}
	if err != nil {
		return fmt.Errorf("insert user %s: %w", u.Username, err)
	}
	return nil
}

// AnyUser reports whether at least one user exists. Errors: only internal
// ones (database).
func (s Store) AnyUser(ctx context.Context) (bool, error) {
	return s.db.NewSelect().Table("users").Exists(ctx)
}

// UpdatePassword sets a user's password hash. Errors: only internal ones (database).
func (s Store) UpdatePassword(ctx context.Context, id int64, hash string) error {
	_, err := s.db.NewUpdate().Table("users").Set("password_hash = ?, updated_at = now()", hash).Where("id = ?", id).Exec(ctx)
	return err
}

// SetActive enables or disables a user. Errors: only internal ones (database).
func (s Store) SetActive(ctx context.Context, id int64, active bool) error {
	_, err := s.db.NewUpdate().Table("users").Set("active = ?, updated_at = now()", active).Where("id = ?", id).Exec(ctx)
	return err
}

// UserListRow is a user as the admin list shows it.
type UserListRow struct {
	ID          int64     `bun:"id" json:"id"`
	Username    string    `bun:"username" json:"username"`
	DisplayName string    `bun:"display_name" json:"display_name"`
	Role        Role      `bun:"role" json:"role"`
	Active      bool      `bun:"active" json:"active"`
	OrgCode     string    `bun:"org_code" json:"organisation_code"`
	OrgName     string    `bun:"org_name" json:"organisation_name"`
	Region      string    `bun:"org_region" json:"region"`
	CreatedAt   time.Time `bun:"created_at" json:"created_at"`
}

// ListUsers returns users matching q (username or name prefix), newest last.
// Errors: only internal ones (database).
func (s Store) ListUsers(ctx context.Context, q string, limit, offset int) ([]UserListRow, int, error) {
	var rows []UserListRow
	sel := s.db.NewSelect().TableExpr("users AS u").
		ColumnExpr("u.id, u.username, u.display_name, u.role, u.active, u.created_at").
		ColumnExpr("coalesce(o.code, '') AS org_code, coalesce(o.name, '') AS org_name, coalesce(o.region_code, '') AS org_region").
		OrderExpr("u.id")
	sel = orgs.JoinOrganisation(sel, "o", "u.organisation_id")
	if q != "" {
		sel = sel.Where("u.username ILIKE ? OR u.display_name ILIKE ?", q+"%", q+"%")
	}
	n, err := sel.Limit(int64(limit)).Offset(int64(offset)).ScanAndCount(ctx, &rows)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	return rows, int(n), nil
}

// ActiveUserIDs returns the IDs of the active users of organisation orgID,
// the recipients of a message to the organisation.
// Errors: none of its own (database failures only).
func (s Store) ActiveUserIDs(ctx context.Context, orgID int64) ([]int64, error) {
	var ids []int64
	err := s.db.NewSelect().Table("users").Column("id").Where("organisation_id = ? AND active", orgID).
		OrderExpr("id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("users of organisation %d: %w", orgID, err)
	}
	return ids, nil
}

// OrgByCode returns id, kind and region of the organisation with code.
// Errors: Invalid unknown_organisation.
func (s Store) OrgByCode(ctx context.Context, code string) (id int64, kind, region string, err error) {
	o, err := orgs.NewStore(s.db).ByCode(ctx, code)
	if apperr.KindOf(err) == apperr.KindNotFound {
		return 0, "", "", apperr.Invalid("unknown_organisation", "机构编码不存在",
			apperr.FieldError{Field: "organisation", Code: "unknown_organisation", Message: "机构编码「" + code + "」不存在"})
	}
	return o.ID, o.Kind, o.RegionCode, err
}

// RecordAttempt stores one login attempt. Errors: only internal ones (database).
func (s Store) RecordAttempt(ctx context.Context, username string, ok bool, ip string, at time.Time) error {
	_, err := s.db.ExecContext(ctx,
		"INSERT INTO login_attempts (username, succeeded, ip, attempted_at) VALUES (?, ?, ?, ?)", username, ok, ip, at)
	return err
}

// RecentFailures counts failed attempts for username since since, stopping at
// the last success. Errors: only internal ones (database).
func (s Store) RecentFailures(ctx context.Context, username string, since time.Time) (int, error) {
	var n int
	err := s.db.NewSelect().Table("login_attempts").ColumnExpr("count(*)").
		Where("lower(username) = lower(?) AND NOT succeeded AND attempted_at > ?", username, since).
		Where(`attempted_at > coalesce((SELECT max(attempted_at) FROM login_attempts
			WHERE lower(username) = lower(?) AND succeeded), '-infinity')`, username).
		Scan(ctx, &n)
	return n, err
}

// InsertSession stores a session. Errors: only internal ones (database).
func (s Store) InsertSession(ctx context.Context, ss *Session) error {
	_, err := s.db.NewInsert().Model(ss).Exec(ctx)
	return err
}

// SessionWithUser returns a session and its user (with organisation) in one
// query: every authenticated request makes it, so it is one round trip.
// Prepared (WithPrepared), PostgreSQL plans it once per connection: planning
// the three-table join was a sixth of the machine's CPU under wrk on the
// workers list, more than running it. Its plan is the same for every
// session (the key of sessions, then of users and organisations).
// Errors: Unauthorized session_expired.
func (s Store) SessionWithUser(ctx context.Context, h []byte) (Session, principalRow, error) {
	var r struct {
		principalRow
		SessCSRF     string    `bun:"sess_csrf"`
		SessLastSeen time.Time `bun:"sess_last_seen"`
		SessCreated  time.Time `bun:"sess_created"`
	}
	var err error
	if s.prep != nil {
		var ps pg.Params
		err = s.prep.Get(ctx, &r, sessionQuery(s.db, ps.Bind(h)).String(), ps.Args()...)
	} else {
		err = sessionQuery(s.db, h).Scan(ctx, &r)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, r.principalRow, apperr.Unauthorized("session_expired", "登录已失效，请重新登录")
	}
	if err != nil {
		return Session{}, r.principalRow, fmt.Errorf("select session: %w", err)
	}
	ss := Session{IDHash: h, UserID: r.ID, CSRFToken: r.SessCSRF, LastSeenAt: r.SessLastSeen, CreatedAt: r.SessCreated}
	return ss, r.principalRow, nil
}

// sessionQuery selects the session of hash h (a value, or a placeholder
// from pg.Params) with its user and organisation.
func sessionQuery(db bun.IDB, h any) *bun.SelectQuery {
	q := db.NewSelect().
		TableExpr("sessions AS s").
		Join("JOIN users AS u ON u.id = s.user_id")
	return orgs.JoinOrganisation(q, "o", "u.organisation_id").
		ColumnExpr("u.*").
		ColumnExpr("coalesce(o.code, '') AS org_code, coalesce(o.name, '') AS org_name").
		ColumnExpr("coalesce(o.kind, '') AS org_kind, coalesce(o.region_code, '') AS org_region").
		ColumnExpr("s.csrf_token AS sess_csrf, s.last_seen_at AS sess_last_seen, s.created_at AS sess_created").
		Where("s.id_hash = ?", h)
}

// TouchSession moves a session's last-seen time. Errors: only internal ones (database).
func (s Store) TouchSession(ctx context.Context, h []byte, at time.Time) error {
	_, err := s.db.NewUpdate().Table("sessions").Set("last_seen_at = ?", at).Where("id_hash = ?", h).Exec(ctx)
	return err
}

// DeleteSession removes a session. Errors: only internal ones (database).
func (s Store) DeleteSession(ctx context.Context, h []byte) error {
	_, err := s.db.NewDelete().Table("sessions").Where("id_hash = ?", h).Exec(ctx)
	return err
}

// SetMustChangePassword sets or clears the forced password change of user
// id. Errors: only internal ones (database).
func (s Store) SetMustChangePassword(ctx context.Context, id int64, must bool) error {
	_, err := s.db.NewUpdate().Table("users").Set("must_change_password = ?", must).Set("updated_at = now()").
		Where("id = ?", id).Exec(ctx)
	return err
}

// DeleteUserSessions removes every session of user id. Errors: only internal ones (database).
func (s Store) DeleteUserSessions(ctx context.Context, id int64) error {
	_, err := s.db.NewDelete().Table("sessions").Where("user_id = ?", id).Exec(ctx)
	return err
}

// DeleteIdleSessions removes sessions idle since before or begun before
// begunBefore. Errors: only internal ones (database).
func (s Store) DeleteIdleSessions(ctx context.Context, before, begunBefore time.Time) (int64, error) {
	res, err := s.db.NewDelete().Table("sessions").Where("last_seen_at < ? OR created_at < ?", before, begunBefore).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// InsertToken stores an API token. Errors: only internal ones (database).
func (s Store) InsertToken(ctx context.Context, t *APIToken) error {
	_, err := s.db.NewInsert().Model(t).ExcludeColumn("id").Returning("id, created_at").Exec(ctx)
	return err
}

// TokenByHash returns an unrevoked token. Errors: Unauthorized invalid_token.
func (s Store) TokenByHash(ctx context.Context, h []byte) (APIToken, error) {
	var t APIToken
	err := s.db.NewSelect().Model(&t).Where("token_hash = ? AND revoked_at IS NULL", h).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return t, apperr.Unauthorized("invalid_token", "API 令牌无效或已撤销")
	}
	return t, err
}

// TouchToken sets a token's last-used time. Errors: only internal ones (database).
func (s Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.NewUpdate().Table("api_tokens").Set("last_used_at = ?", at).Where("id = ?", id).Exec(ctx)
	return err
}

// RevokeToken marks a token revoked; it reports whether one was.
// Errors: only internal ones (database).
func (s Store) RevokeToken(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := s.db.NewUpdate().Table("api_tokens").Set("revoked_at = ?", at).
		Where("id = ? AND revoked_at IS NULL", id).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ListTokens returns tokens, of one organisation when orgID is not 0.
// Errors: only internal ones (database).
func (s Store) ListTokens(ctx context.Context, orgID int64) ([]APIToken, error) {
	var ts []APIToken
	q := s.db.NewSelect().Model(&ts).ColumnExpr("api_token.*").ColumnExpr("coalesce(o.name, '') AS org_name").
		OrderExpr("api_token.id DESC")
	q = orgs.JoinOrganisation(q, "o", "api_token.organisation_id")
	if orgID != 0 {
		q = q.Where("api_token.organisation_id = ?", orgID)
	}
	err := q.Scan(ctx)
	return ts, err
}

// OrgForToken returns the organisation behind a token as a principal.
// Errors: Unauthorized invalid_token.
func (s Store) OrgForToken(ctx context.Context, t APIToken) (Principal, error) {
	o, err := orgs.NewStore(s.db).ByID(ctx, t.OrganisationID)
	if apperr.KindOf(err) == apperr.KindNotFound || err == nil && !o.Active {
		return Principal{}, apperr.Unauthorized("invalid_token", "API 令牌无效或已撤销")
	}
	if err != nil {
		return Principal{}, err
	}
	return Principal{OrgID: o.ID, OrgCode: o.Code, OrgName: o.Name, OrgKind: o.Kind, Region: o.RegionCode}, nil
}

// UserName is a scalar sub-query giving the display name (else the username)
// of the user whose id is in idCol (a constant of the caller's code, e.g.
// "b.recorded_by"), or NULL: other modules show who acted in the same
// statement without naming this module's table themselves.
func UserName(idCol string) bun.Safe {
	return bun.Safe("(SELECT coalesce(nullif(display_name, ''), username) FROM users WHERE id = " + idCol + ")")
}

// Username is a scalar sub-query giving the username of the user whose id is
// in idCol (a constant of the caller's code), or NULL; see UserName.
func Username(idCol string) bun.Safe {
	return bun.Safe("(SELECT username FROM users WHERE id = " + idCol + ")")
}
