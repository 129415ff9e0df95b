-- Subsidy budgets an admin sets per region and year, so the HR overview can
-- show how much of it is paid out. Whole yuan, like every amount.
CREATE TABLE payout_budgets (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_code text NOT NULL REFERENCES regions (code),
    year        integer NOT NULL CHECK (year BETWEEN 2017 AND 2100),
    amount_yuan bigint NOT NULL CHECK (amount_yuan > 0 AND amount_yuan <= 100000000000),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    set_by      bigint NOT NULL REFERENCES users (id),
    set_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payout_budgets_once UNIQUE (region_code, year)
);
