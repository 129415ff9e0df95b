-- Indexes that serve the claims list (newest first) and the 免申即享
-- proposals (oldest first) for each kind of HR scope, so a page is read in
-- id order from one index and a cursor (?after=) resumes where the last
-- page ended: the province walks the primary key (or the eligible rows'
-- own index), a city (left(region_code, 4) = '4201') and a district
-- (region_code = '420102') start at their region instead of filtering the
-- province's rows. A city's index carries the status too: its count under a
-- status filter (claims to review) was a sequential scan of the province.
CREATE INDEX claims_city_status_id ON claims ((left(region_code, 4)), status, id);
CREATE INDEX claims_region_id ON claims (region_code, id);
CREATE INDEX claim_eligibility_open_id ON claim_eligibility (id) WHERE status = 'eligible';
CREATE INDEX claim_eligibility_open_city ON claim_eligibility ((left(region_code, 4)), id) WHERE status = 'eligible';
-- The planner keeps no statistics of a partial index's expression: without
-- these, a city's open proposals were guessed at 0.5 % of the table and
-- counted row by row (one claims look-up each) on every page.
CREATE STATISTICS claim_eligibility_city ON (left(region_code, 4)) FROM claim_eligibility;
-- eligibility.refresh ends with ANALYZE of the table it rewrote. The
-- application role owns nothing, and PostgreSQL 15 lets only the owner
-- analyze (a WARNING, not an error, for anyone else): the owner's function
-- does it for the application and can do nothing else.
CREATE FUNCTION claims_analyze_eligibility() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    ANALYZE public.claim_eligibility;
END
$$;
