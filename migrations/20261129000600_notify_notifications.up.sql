-- The in-app inbox. A message goes to a worker (read by the worker's login)
-- or to a user. A dedupe key makes "send once" reminders idempotent.
CREATE TABLE notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id   bigint,
    user_id     bigint REFERENCES users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind ~ '^[a-z_.]+$'),
    title       text NOT NULL CHECK (title <> ''),
    body        text NOT NULL DEFAULT '',
    link        text NOT NULL DEFAULT '' CHECK (link = '' OR link LIKE '/%'),
    dedupe_key  text UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    CONSTRAINT notifications_one_recipient CHECK ((worker_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX notifications_worker_idx ON notifications (worker_id, id DESC) WHERE worker_id IS NOT NULL;
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC) WHERE user_id IS NOT NULL;
