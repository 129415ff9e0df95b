-- Indexes that serve the certificates list (newest first: issued_on, id)
-- for each kind of scope, so a page is read in order from one index and a
-- cursor (?after=) resumes where the last page ended: admin and the
-- province walk (issued_on, id); a city (prefix 4201) and a district start
-- at their region; a provider at the certificates it issued. The status
-- filter's column rides along so that a total up to 10 000 is counted from
-- the index alone (the city index also needs the column its expression is
-- computed from). A worker's and a class's few certificates keep their own
-- indexes.
CREATE INDEX certificates_issued_idx ON certificates (issued_on, id) INCLUDE (status);
CREATE INDEX certificates_city_issued_idx ON certificates ((left(region_code, 4)), issued_on, id) INCLUDE (status, region_code);
CREATE INDEX certificates_region_issued_idx ON certificates (region_code, issued_on, id) INCLUDE (status);
CREATE INDEX certificates_provider_issued_idx ON certificates (provider_org_id, issued_on, id) INCLUDE (status);
