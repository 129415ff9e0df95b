-- Subsidy claims (DESIGN §6.4): one subsidy for one certificate, with the
-- whole evaluation frozen at submission, two different people deciding and a
-- public notice (公示) on the working-day calendar before it is payable.
CREATE TABLE claims (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id       bigint NOT NULL REFERENCES workers (id),
    certificate_id  bigint NOT NULL REFERENCES certificates (id),
    subsidy         text NOT NULL CHECK (subsidy IN ('skill_upgrade', 'training', 'appraisal')),
    status          text NOT NULL DEFAULT 'submitted' CHECK (status IN
                        ('submitted', 'reviewed', 'notice', 'payable', 'batched', 'paid', 'rejected', 'returned')),
    -- the worker's region when the claim was submitted: HR scope
    region_code     text NOT NULL REFERENCES regions (code),
    -- frozen at submission together with the evaluation behind it
    amount_yuan     bigint NOT NULL CHECK (amount_yuan >= 0),
    eval_status     text NOT NULL CHECK (eval_status IN ('eligible', 'unknown')),
    policy_version  text NOT NULL,
    snapshot        jsonb NOT NULL,
    -- the latest re-evaluation (review, approval) and how it differs
    changes         jsonb,
    reevaluated_at  timestamptz,
    submitted_at    timestamptz NOT NULL,
    submitted_by    bigint NOT NULL REFERENCES users (id),
    on_behalf       boolean NOT NULL DEFAULT false,
    from_proposal   boolean NOT NULL DEFAULT false,
    reviewer_id     bigint REFERENCES users (id),
    reviewed_at     timestamptz,
    review_note     text NOT NULL DEFAULT '',
    approver_id     bigint REFERENCES users (id),
    approved_at     timestamptz,
    approved_on     date,
    notice_ends_on  date,
    payable_at      timestamptz,
    paid_on         date,
    rejected_at     timestamptz,
    rejected_by     bigint REFERENCES users (id),
    reject_code     text CHECK (reject_code IN ('not_eligible', 'documents', 'objection', 'banned', 'other')),
    reject_reason   text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- four eyes: whoever reviewed never approves
    CONSTRAINT claims_four_eyes CHECK (reviewer_id IS NULL OR approver_id IS NULL OR reviewer_id <> approver_id),
    CONSTRAINT claims_reviewed CHECK (status IN ('submitted', 'rejected') OR (reviewer_id IS NOT NULL AND reviewed_at IS NOT NULL)),
    CONSTRAINT claims_approved CHECK (status IN ('submitted', 'reviewed', 'rejected')
        OR (approver_id IS NOT NULL AND approved_on IS NOT NULL AND notice_ends_on IS NOT NULL AND notice_ends_on > approved_on)),
    CONSTRAINT claims_rejection CHECK ((status = 'rejected') = (reject_code IS NOT NULL AND rejected_at IS NOT NULL)),
    CONSTRAINT claims_paid CHECK ((status = 'paid') = (paid_on IS NOT NULL))
);
-- At most one live claim per person, certificate and subsidy: a double click
-- or two tabs make one claim, and nothing is paid twice.
CREATE UNIQUE INDEX claims_live_key ON claims (worker_id, certificate_id, subsidy) WHERE status <> 'rejected';
CREATE INDEX claims_region_status ON claims (region_code text_pattern_ops, status, id);
CREATE INDEX claims_status_id ON claims (status, id);
CREATE INDEX claims_worker ON claims (worker_id);
CREATE INDEX claims_notice_end ON claims (notice_ends_on) WHERE status = 'notice';

-- The nightly evaluation of every certificate × subsidy from stored facts
-- (免申即享): proposals are the eligible rows nobody has claimed.
CREATE TABLE claim_eligibility (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id       bigint NOT NULL REFERENCES workers (id),
    certificate_id  bigint NOT NULL REFERENCES certificates (id),
    subsidy         text NOT NULL CHECK (subsidy IN ('skill_upgrade', 'training', 'appraisal')),
    status          text NOT NULL CHECK (status IN ('eligible', 'ineligible', 'unknown')),
    amount_yuan     bigint NOT NULL CHECK (amount_yuan >= 0),
    window_ends_on  date,
    region_code     text,
    policy_version  text NOT NULL,
    evaluated_at    timestamptz NOT NULL,
    CONSTRAINT claim_eligibility_key UNIQUE (worker_id, certificate_id, subsidy)
);
CREATE INDEX claim_eligibility_eligible ON claim_eligibility (region_code text_pattern_ops, id) WHERE status = 'eligible';
