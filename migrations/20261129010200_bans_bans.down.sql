DROP TRIGGER workers_banned_on_insert ON workers;
DROP FUNCTION workers_banned_on_insert();
DROP TABLE bans;
