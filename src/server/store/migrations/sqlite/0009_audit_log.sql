-- The audit log: who did what to which account, when and from where. Append-only: the
-- application only inserts, and deletes what is older than --audit-retention. Names are kept
-- beside ids, without foreign keys, so the trail outlives a deleted account.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    -- user, cli, system, or visitor (nobody signed in: a failed sign-in, the setup page).
    actor_kind  TEXT    NOT NULL,
    actor_id    INTEGER,
    actor_name  TEXT,
    -- sign_in, sign_out, refresh_reuse, password_changed, ... (src/server/audit.rs).
    action      TEXT    NOT NULL,
    target_id   INTEGER,
    target_name TEXT,
    ip_address  TEXT,
    user_agent  TEXT,
    -- success, failure or throttled.
    outcome     TEXT    NOT NULL,
    request_id  TEXT
) STRICT;

-- The filters: by person (actor or target, any letter case) and by time.
CREATE INDEX audit_events_target ON audit_events (lower(target_name), id);
CREATE INDEX audit_events_actor ON audit_events (lower(actor_name), id);
CREATE INDEX audit_events_at ON audit_events (at);
