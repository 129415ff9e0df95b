-- A worker's own sittings (/me/assessments, the ICS feed) start from the
-- worker: without this the province's two million candidates are scanned.
CREATE INDEX assessment_candidates_worker_idx ON assessment_candidates (worker_id) WHERE active;
