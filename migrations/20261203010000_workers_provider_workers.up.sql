-- A provider's scope over workers as a read model owned by workers: the
-- providers that registered a worker, and those holding the worker in a
-- class (places counts the worker's active enrolments there: enrolled,
-- waitlisted or completed). The enrolment module keeps places in step in
-- the transaction of every enrolment change; the scope of a provider no
-- longer reads enrolments and classes.
CREATE TABLE provider_workers (
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    worker_id       bigint NOT NULL REFERENCES workers (id),
    registered      boolean NOT NULL DEFAULT false,
    places          integer NOT NULL DEFAULT 0 CHECK (places >= 0),
    -- the key serves a provider's worker list (organisation first)
    PRIMARY KEY (organisation_id, worker_id)
);
-- serves "which providers see this worker" (one worker's page, scope checks)
CREATE INDEX provider_workers_worker_idx ON provider_workers (worker_id, organisation_id);

INSERT INTO provider_workers (organisation_id, worker_id, registered, places)
SELECT organisation_id, worker_id, bool_or(registered), sum(places)
FROM (
    SELECT w.registered_by_org_id AS organisation_id, w.id AS worker_id, true AS registered, 0 AS places
    FROM workers AS w JOIN organisations AS o ON o.id = w.registered_by_org_id
    WHERE o.kind = 'provider'
    UNION ALL
    SELECT c.provider_org_id, e.worker_id, false, 1
    FROM enrolments AS e JOIN classes AS c ON c.id = e.class_id
    WHERE e.status IN ('enrolled', 'waitlisted', 'completed')
) AS links
GROUP BY organisation_id, worker_id;
