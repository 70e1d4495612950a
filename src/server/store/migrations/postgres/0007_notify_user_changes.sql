-- Every change to a session or a user is announced, from inside the writing transaction, on the
-- channel gatehouse_user_changes with the user's id: every instance LISTENs and forgets the
-- sessions of that user it keeps in memory (src/server/store/session_cache.rs). A trigger, not
-- the application, so that no writer can forget: the CLI, another instance, a hand-written
-- UPDATE. Notifications are sent at commit and never for a rolled-back transaction; repeats
-- within one transaction are sent once.
CREATE FUNCTION gatehouse_notify_user_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('gatehouse_user_changes', OLD.id::text);
    ELSE
        PERFORM pg_notify('gatehouse_user_changes', OLD.user_id::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_user_change();

CREATE TRIGGER sessions_changed AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_user_change();
