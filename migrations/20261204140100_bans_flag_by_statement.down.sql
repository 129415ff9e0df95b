DROP TRIGGER workers_banned_on_insert ON workers;
DROP FUNCTION workers_flag_banned_rows();
CREATE FUNCTION workers_banned_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.banned := EXISTS (SELECT 1 FROM bans b WHERE b.id_number_idx = NEW.id_number_idx AND b.lifted_at IS NULL);
    RETURN NEW;
END;
$$;
CREATE TRIGGER workers_banned_on_insert BEFORE INSERT ON workers
    FOR EACH ROW EXECUTE FUNCTION workers_banned_on_insert();
