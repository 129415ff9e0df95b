-- Shared request counters of the rate limits, so that a limit holds across
-- several app instances: one row per limiter, key (an IP, a user) and fixed
-- window. Instances take requests from here in small blocks (see
-- modules/ratelimit), so a request far from the limit writes nothing.
-- count may pass the limit by the last block asked for; it only grows.
CREATE TABLE rate_limit_counters (
    limiter      text NOT NULL,
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL CHECK (count >= 0),
    PRIMARY KEY (limiter, key, window_start)
);
-- The purge of finished windows.
CREATE INDEX rate_limit_counters_window ON rate_limit_counters (window_start);
