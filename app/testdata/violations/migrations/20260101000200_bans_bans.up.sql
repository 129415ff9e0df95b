CREATE TABLE IF NOT EXISTS bans (id bigint, worker_id bigint);
