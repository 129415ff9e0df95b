-- Users, their server-side sessions (shared by every app instance), login
-- attempts for the lockout rule, and organisation API tokens.
CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text NOT NULL CHECK (username ~ '^[A-Za-z0-9_.-]{3,40}$'),
    display_name    text NOT NULL DEFAULT '',
    role            text NOT NULL CHECK (role IN ('worker', 'college', 'provider', 'institution',
                        'hr_reviewer', 'hr_approver', 'regulator', 'admin')),
    organisation_id bigint REFERENCES organisations (id),
    worker_id       bigint UNIQUE,
    password_hash   text NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- A worker is linked to their worker record; everyone else to an organisation.
    CONSTRAINT users_role_link CHECK (
        (role = 'worker' AND worker_id IS NOT NULL AND organisation_id IS NULL) OR
        (role <> 'worker' AND organisation_id IS NOT NULL AND worker_id IS NULL))
);
-- Logins match usernames case-insensitively, so uniqueness does too.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE INDEX users_organisation_idx ON users (organisation_id);

CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at);

CREATE TABLE login_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username     text NOT NULL,
    succeeded    boolean NOT NULL,
    ip           text NOT NULL DEFAULT '',
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_user_idx ON login_attempts (lower(username), attempted_at DESC);

CREATE TABLE api_tokens (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    name            text NOT NULL CHECK (name <> ''),
    prefix          text NOT NULL,
    token_hash      bytea NOT NULL UNIQUE,
    created_by      bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    revoked_at      timestamptz
);
CREATE INDEX api_tokens_org_idx ON api_tokens (organisation_id);
