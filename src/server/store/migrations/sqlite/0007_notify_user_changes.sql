-- Nothing to change on SQLite: processes sharing the file learn of each other's changes to
-- sessions and users through the counter file beside the database, which the store raises
-- after every such write (src/server/store/session_cache.rs). The migration exists so that both
-- dialects keep the same version numbers.
SELECT 1;
