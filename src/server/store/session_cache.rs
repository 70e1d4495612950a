//! Live sessions kept in memory, so that checking a request's token is a JWT check and a hash
//! lookup instead of a database read, with invalidation exact enough that revocation stays
//! instant.
//!
//! The cache holds what [`Store::find_session`](super::Store::find_session) reads: a session
//! joined with its user. Whatever writes to a session or a user makes that user's entries stale:
//! - in this process, at once: the store's write methods call [`SessionCache::changed`] after
//!   their commit, before they return;
//! - in another process on the same SQLite file (the `gatehouse user` commands, say): every
//!   writer raises a counter in a small file beside the database after its commit
//!   ([`ChangeCounter`]), and every lookup reads that counter first (mapped into memory: no
//!   system call): a change made elsewhere empties the cache;
//! - in another instance on the same PostgreSQL database: triggers (migration 0007) NOTIFY the
//!   user's id from inside the writing transaction, and every instance LISTENs and forgets that
//!   user's entries. An instance whose listening connection is lost empties its cache and reads
//!   through until it listens again.
//!
//! Entries are made stale by generations rather than removed: users are spread over
//! [`STRIPES`] stripes, each with a counter that a change raises. An entry remembers its
//! stripe's counter from *before* its read began and is used only while that counter has not
//! moved, so a read that raced a write can never leave a stale entry behind.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use prometheus_client::metrics::counter::Counter;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};

use super::{SessionRow, UserRow};
use crate::server::files::create_private_file;

/// Users are spread over this many generation counters: a change to one user makes about
/// 1/64 of the entries read again, not all of them.
const STRIPES: usize = 64;

/// The PostgreSQL channel the triggers of migration 0007 notify, with a user id as payload.
pub(super) const CHANGES_CHANNEL: &str = "gatehouse_user_changes";

/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Sessions with their users, and how this process hears of changes made by others.
pub(super) struct SessionCache {
    /// `None` when caching is off (the CLI, which reads each session at most once).
    entries: Option<quick_cache::sync::Cache<String, Entry>>,
    generations: [AtomicU64; STRIPES],
    others: Others,
    /// Notifications received from PostgreSQL so far.
    heard: AtomicU64,
    /// Lookups answered from the cache, and lookups that had to read the database.
    hits: Counter,
    misses: Counter,
}

#[derive(Clone)]
struct Entry {
    session: SessionRow,
    user: UserRow,
    /// The user's stripe counter before the read that filled this entry.
    generation: u64,
}

/// Who else writes to the database, and how their writes reach this process.
pub(super) enum Others {
    /// Nobody (an in-memory SQLite database).
    Nobody,
    /// Other processes on the same SQLite file.
    SameFile(ChangeCounter),
    /// Other instances on the same PostgreSQL database, heard through LISTEN. The cache is
    /// trusted only while `listening`.
    Postgres { listening: AtomicBool },
}

/// The stripe counters as they were when a read began; see [`SessionCache::before_read`].
pub(super) struct BeforeRead(Option<[u64; STRIPES]>);

impl SessionCache {
    /// A cache of up to `capacity` sessions (0: no caching, only telling others of changes).
    pub(super) fn new(capacity: usize, others: Others) -> Self {
        Self {
            entries: (capacity > 0).then(|| quick_cache::sync::Cache::new(capacity)),
            generations: std::array::from_fn(|_| AtomicU64::new(0)),
            others,
            heard: AtomicU64::new(0),
            hits: Counter::default(),
            misses: Counter::default(),
        }
    }

    /// The session `id` with its user, when a fresh copy is at hand.
    pub(super) fn get(&self, id: &str) -> Option<(SessionRow, UserRow)> {
        let found = self.fresh(id);
        if found.is_some() {
            self.hits.inc();
        } else {
            self.misses.inc();
        }
        found
    }

    fn fresh(&self, id: &str) -> Option<(SessionRow, UserRow)> {
        let entries = self.entries.as_ref()?;
        if !self.trusted() {
            return None;
        }
        let entry = entries.get(id)?;
        (entry.generation == self.generation_of(entry.user.id)).then_some((entry.session, entry.user))
    }

    /// The hit and miss counters, for the metrics.
    pub(super) fn counters(&self) -> (Counter, Counter) {
        (self.hits.clone(), self.misses.clone())
    }

    /// To be called before reading a session from the store, and handed to [`Self::fill`] with
    /// what was read.
    pub(super) fn before_read(&self) -> BeforeRead {
        if self.entries.is_none() || !self.trusted() {
            return BeforeRead(None);
        }
        BeforeRead(Some(std::array::from_fn(|stripe| {
            self.generations[stripe].load(Ordering::Acquire)
        })))
    }

    /// Keeps what was read, unless the user changed since the read began (then the next lookup
    /// reads again).
    pub(super) fn fill(&self, before: BeforeRead, session: &SessionRow, user: &UserRow) {
        let (Some(entries), BeforeRead(Some(generations))) = (&self.entries, before) else {
            return;
        };
        entries.insert(
            session.id.clone(),
            Entry {
                session: session.clone(),
                user: user.clone(),
                generation: generations[stripe(user.id)],
            },
        );
    }

    /// Marks every cached session of `user_id` stale, here and (on SQLite) in every other
    /// process on the same file. Called after the write committed.
    pub(super) fn changed(&self, user_id: i64) {
        self.generations[stripe(user_id)].fetch_add(1, Ordering::AcqRel);
        self.tell_others();
    }

    /// Marks every cached session stale (a change whose users are not known one by one).
    pub(super) fn changed_all(&self) {
        self.forget_all();
        self.tell_others();
    }

    fn forget_all(&self) {
        for generation in &self.generations {
            generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn tell_others(&self) {
        if let Others::SameFile(counter) = &self.others
            && let Err(error) = counter.raise()
        {
            // The other processes may now use a stale copy: say so loudly. This process is
            // exact either way.
            tracing::error!(
                error = format!("{error:#}"),
                "could not tell other processes on this database of a change"
            );
        }
    }

    /// Whether what is cached can be used: nothing changed elsewhere that has not been taken
    /// into account.
    fn trusted(&self) -> bool {
        match &self.others {
            Others::Nobody => true,
            Others::SameFile(counter) => {
                if counter.changed_elsewhere() {
                    counter.caught_up_after(|| self.forget_all());
                }
                true
            }
            Others::Postgres { listening } => listening.load(Ordering::Acquire),
        }
    }

    fn generation_of(&self, user_id: i64) -> u64 {
        self.generations[stripe(user_id)].load(Ordering::Acquire)
    }

    /// Entries in the cache, stale ones included (for tests and the log).
    pub(super) fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, quick_cache::sync::Cache::len)
    }

    /// How many notifications of other instances' changes this one has taken into account.
    pub(super) fn heard(&self) -> u64 {
        self.heard.load(Ordering::Acquire)
    }

    /// Whether this instance currently hears of other instances' changes (always true
    /// without PostgreSQL).
    pub(super) fn listening(&self) -> bool {
        match &self.others {
            Others::Postgres { listening } => listening.load(Ordering::Acquire),
            _ => true,
        }
    }
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("entries", &self.len())
            .field("listening", &self.listening())
            .finish_non_exhaustive()
    }
}

fn stripe(user_id: i64) -> usize {
    // Ids are small consecutive numbers: the remainder spreads them evenly.
    usize::try_from(user_id.rem_euclid(STRIPES as i64)).unwrap_or_default()
}

/// A counter in a file beside a SQLite database, raised by every process after it changed a
/// session or a user, and read by every server before it trusts its cache.
///
/// The file's eight bytes are mapped into memory, shared: a raise by any process is seen by the
/// others at once (they share the page), and reading the counter is a memory load. It is read
/// on every authenticated request, where a `pread` was one system call in three.
pub(super) struct ChangeCounter {
    /// Kept open for the lock that raises take.
    file: File,
    map: memmap2::MmapRaw,
    /// The counter's value whose changes this process has taken into account.
    seen: AtomicU64,
}

/// The counter's size in the file: one `u64`, in the machine's byte order (every process that
/// shares the file runs on this machine).
const COUNTER_LEN: u64 = 8;

impl ChangeCounter {
    /// Opens (creating, owner only) the counter of the database at `database`.
    pub(super) fn open(database: &Path) -> anyhow::Result<Self> {
        let mut path = database.as_os_str().to_owned();
        path.push("-changes");
        let path = Path::new(&path);
        create_private_file(path)?;
        let file = File::options()
            .read(true)
            .write(true)
            .open(path)
            .with_context(|| format!("Failed to open {}", path.display()))?;
        // A new file is empty: give it its eight bytes (zero) before mapping them, since a
        // mapped page past the end of a file cannot be read. Under the raises' lock, so that
        // this never cuts a counter another process is writing.
        file.lock().context("Failed to lock the change counter")?;
        let sized = match file.metadata() {
            Ok(metadata) if metadata.len() >= COUNTER_LEN => Ok(()),
            Ok(_) => file.set_len(COUNTER_LEN),
            Err(error) => Err(error),
        };
        let _ = file.unlock();
        sized.with_context(|| format!("Failed to size {}", path.display()))?;
        let map = memmap2::MmapOptions::new()
            .len(COUNTER_LEN as usize)
            .map_raw(&file)
            .with_context(|| format!("Failed to map {} into memory", path.display()))?;
        let counter = Self {
            file,
            map,
            seen: AtomicU64::new(0),
        };
        counter.seen.store(counter.read(), Ordering::Release);
        Ok(counter)
    }

    /// The counter in the shared mapping.
    fn counter(&self) -> &AtomicU64 {
        // SAFETY: the mapping is eight bytes long and starts on a page boundary (aligned for a
        // u64); it lives as long as `self`, which the reference borrows. Processes of this
        // version reach the bytes only through this atomic, so none of their accesses is torn
        // (an earlier version's locked `pread` and `pwrite`, during an upgrade, could read a
        // torn value at worst: one that differs, which only empties a cache).
        unsafe { AtomicU64::from_ptr(self.map.as_mut_ptr().cast::<u64>()) }
    }

    fn read(&self) -> u64 {
        self.counter().load(Ordering::Acquire)
    }

    /// Whether another process raised the counter since this one last caught up.
    fn changed_elsewhere(&self) -> bool {
        self.read() != self.seen.load(Ordering::Acquire)
    }

    /// Runs `forget` (which empties the cache), then records the counter as seen. In that
    /// order: a lookup in between still finds the counter unseen and does not trust the cache.
    fn caught_up_after(&self, forget: impl FnOnce()) {
        let value = self.read();
        forget();
        self.seen.store(value, Ordering::Release);
    }

    /// Raises the counter by one. The addition is atomic across processes; the file lock
    /// around it keeps out a server of an earlier version, which raised the counter with a
    /// locked read and write of the file during an upgrade.
    fn raise(&self) -> anyhow::Result<()> {
        self.file.lock().context("Failed to lock the change counter")?;
        let before = self.counter().fetch_add(1, Ordering::AcqRel);
        let _ = self.file.unlock();
        // When nobody else raised it since this process last caught up, this raise is the
        // process's own and already taken into account: no need to empty the cache for it.
        let _ = self
            .seen
            .compare_exchange(before, before + 1, Ordering::AcqRel, Ordering::Acquire);
        Ok(())
    }
}

/// Hears other instances' changes on PostgreSQL, on a thread of its own with its own runtime
/// and connection, so that a notification is taken into account as soon as it arrives rather
/// than when the server's busy runtime gets round to it. Stops when dropped.
#[derive(Debug)]
pub(super) struct Listener {
    stop: tokio::sync::watch::Sender<bool>,
}

impl Listener {
    /// Starts listening with a connection made from `options`.
    ///
    /// # Errors
    /// The thread could not be started.
    pub(super) fn start(options: PgConnectOptions, cache: Arc<SessionCache>) -> anyhow::Result<Self> {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        std::thread::Builder::new()
            .name("gatehouse-listen".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        tracing::error!(%error, "cannot start the thread that hears other instances' changes");
                        return;
                    }
                };
                runtime.block_on(async move {
                    tokio::select! {
                        _ = stopped.wait_for(|stop| *stop) => {}
                        () = listen_for_changes(options, &cache) => {}
                    }
                });
            })
            .context("Failed to start the thread that hears other instances' changes")?;
        Ok(Self { stop })
    }
}

impl Listener {
    pub(super) fn stop(&self) {
        self.stop.send_replace(true);
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Listens until stopped: each notification makes its user's entries stale. While the
/// connection is down the cache is not trusted; once it is back, everything cached before is
/// forgotten (notifications sent in between are lost) and the cache is trusted again.
async fn listen_for_changes(options: PgConnectOptions, cache: &SessionCache) {
    let Others::Postgres { listening } = &cache.others else {
        return;
    };
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options.application_name("gatehouse-listener"));
    loop {
        let result = listen_until_lost(&pool, cache, listening).await;
        listening.store(false, Ordering::Release);
        cache.forget_all();
        match result {
            Ok(()) => tracing::warn!(
                "lost the connection that hears of other instances' changes; \
                 reading every session from the database until it is back"
            ),
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "cannot hear of other instances' changes; \
                 reading every session from the database until that works"
            ),
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

/// Returns `Ok` when the connection was lost, an error when it could not be made or failed.
async fn listen_until_lost(
    pool: &PgPool,
    cache: &SessionCache,
    listening: &AtomicBool,
) -> anyhow::Result<()> {
    let mut listener = PgListener::connect_with(pool)
        .await
        .context("Failed to connect for LISTEN")?;
    // A lost connection is made again by the loop above, which forgets the cache first.
    listener.eager_reconnect(false);
    listener
        .listen(CHANGES_CHANNEL)
        .await
        .context("Failed to LISTEN")?;
    cache.forget_all();
    listening.store(true, Ordering::Release);
    while let Some(notification) = listener
        .try_recv()
        .await
        .context("Failed to receive a notification")?
    {
        match notification.payload().parse::<i64>() {
            Ok(user_id) => {
                cache.generations[stripe(user_id)].fetch_add(1, Ordering::AcqRel);
            }
            Err(_) => cache.forget_all(),
        }
        cache.heard.fetch_add(1, Ordering::AcqRel);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::{UserRow, sessions::SessionRow};

    fn session(id: &str, user_id: i64) -> SessionRow {
        SessionRow {
            id: id.into(),
            user_id,
            ..SessionRow::for_tests()
        }
    }

    fn user(id: i64) -> UserRow {
        let mut user = UserRow::for_tests(false);
        user.id = id;
        user
    }

    fn cached(cache: &SessionCache, id: &str, user_id: i64) {
        let before = cache.before_read();
        cache.fill(before, &session(id, user_id), &user(user_id));
    }

    #[test]
    fn a_change_to_a_user_makes_their_sessions_stale_and_no_one_elses() {
        let cache = SessionCache::new(100, Others::Nobody);
        cached(&cache, "a", 1);
        cached(&cache, "b", 2);
        assert!(cache.get("a").is_some() && cache.get("b").is_some());
        cache.changed(1);
        assert!(cache.get("a").is_none());
        assert!(cache.get("b").is_some());
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_kept() {
        let cache = SessionCache::new(100, Others::Nobody);
        let before = cache.before_read();
        // The write commits and invalidates while the read is in flight with the old row.
        cache.changed(1);
        cache.fill(before, &session("a", 1), &user(1));
        assert!(cache.get("a").is_none(), "the old row must be read again");
        cached(&cache, "a", 1);
        assert!(cache.get("a").is_some());
    }

    #[test]
    fn without_capacity_nothing_is_kept() {
        let cache = SessionCache::new(0, Others::Nobody);
        cached(&cache, "a", 1);
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn a_change_made_by_another_process_on_the_same_file_empties_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("gatehouse.db");
        let server = SessionCache::new(100, Others::SameFile(ChangeCounter::open(&database).unwrap()));
        let cli = SessionCache::new(0, Others::SameFile(ChangeCounter::open(&database).unwrap()));
        cached(&server, "a", 1);
        server.changed(2);
        assert!(
            server.get("a").is_some(),
            "its own change to someone else leaves others cached"
        );
        cli.changed(1);
        assert!(server.get("a").is_none(), "a change elsewhere empties the cache");
        cached(&server, "a", 1);
        assert!(server.get("a").is_some(), "and once caught up it caches again");
    }

    #[test]
    fn postgres_entries_are_used_only_while_listening() {
        let cache = SessionCache::new(
            100,
            Others::Postgres {
                listening: AtomicBool::new(false),
            },
        );
        cached(&cache, "a", 1);
        assert!(cache.get("a").is_none(), "nothing is kept before listening");
        let Others::Postgres { listening } = &cache.others else {
            unreachable!()
        };
        listening.store(true, Ordering::Release);
        cached(&cache, "a", 1);
        assert!(cache.get("a").is_some());
        listening.store(false, Ordering::Release);
        assert!(cache.get("a").is_none());
    }
}
