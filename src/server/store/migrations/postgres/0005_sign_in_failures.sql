-- Failed sign-ins, per account and per client address, shared by every instance using the
-- store: what brute-force throttling counts.
CREATE TABLE sign_in_failures (
    -- "account:<lower-case username>" or "address:<ip>".
    subject   TEXT        NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX sign_in_failures_subject ON sign_in_failures (subject, failed_at);
