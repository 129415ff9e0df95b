CREATE INDEX workers_registered_by_idx ON workers (registered_by_org_id);
