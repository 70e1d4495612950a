//! Passwords: the policy a new password must pass, and argon2id hashing and verification.
//!
//! argon2 is deliberately slow and memory-hungry (19 MiB per call with these parameters), so it
//! never runs on an async worker: every call goes to a fixed pool of threads, one per core, each
//! reusing its own argon2 memory. A flood of sign-ins then queues instead of growing memory.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, mpsc};

use anyhow::Context;
use argon2::password_hash::{Output, ParamsString, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OnceCell, oneshot};

use crate::server::random::random_hex;

/// Shortest password accepted, in characters (OWASP ASVS 2.1.1).
pub const MIN_CHARS: usize = crate::domain::Password::MIN_CHARS;
/// Longest password accepted, in characters.
pub const MAX_CHARS: usize = crate::domain::Password::MAX_CHARS;

/// The most common passwords of at least eight characters, lower case, one a line: the list
/// Django ships (20,000 common passwords compiled by Royce Williams), filtered to the lengths
/// our policy would otherwise accept.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("the password must be at least {MIN_CHARS} characters long")]
    TooShort,
    #[error("the password must be at most {MAX_CHARS} characters long")]
    TooLong,
    #[error("the password is one of the most commonly used passwords; choose another")]
    TooCommon,
}

impl From<WeakPassword> for crate::error::Problem {
    fn from(weak: WeakPassword) -> Self {
        match weak {
            WeakPassword::TooShort => Self::PasswordTooShort,
            WeakPassword::TooLong => Self::PasswordTooLong,
            WeakPassword::TooCommon => Self::PasswordTooCommon,
        }
    }
}

/// Checks a new password against the policy: 8 to 1024 characters of any kind, not on the list
/// of common passwords. The password is taken exactly as given: never trimmed, never truncated.
///
/// # Errors
/// The rule the password breaks.
pub fn check_policy(password: &SecretString) -> Result<(), WeakPassword> {
    let password = password.expose_secret();
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(WeakPassword::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(WeakPassword::TooLong);
    }
    if COMMON_PASSWORDS.contains(password.to_lowercase().as_str()) {
        return Err(WeakPassword::TooCommon);
    }
    Ok(())
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`): safe to store, still never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read from the store.
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `true` when this hash was made with another algorithm, version or parameters than the
    /// ones passwords are hashed with now: after a successful verify it is replaced, so that
    /// raising the parameters strengthens every account as its owner signs in.
    pub fn needs_rehash(&self) -> bool {
        let Ok(parsed) = argon2::PasswordHash::new(&self.0) else {
            // Cannot be verified either; nothing to rehash.
            return false;
        };
        let current = production_params();
        parsed.algorithm != argon2::ARGON2ID_IDENT
            || parsed.version != Some(Version::V0x13.into())
            || Params::try_from(&parsed).map_or(true, |params| {
                (params.m_cost(), params.t_cost(), params.p_cost())
                    != (current.m_cost(), current.t_cost(), current.p_cost())
            })
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// Hashes and verifies passwords on a fixed pool of argon2 threads.
#[derive(Clone, Debug)]
pub struct Passwords {
    pool: Argon2Pool,
    /// Hash of a random password, verified against when the user does not exist so that an
    /// unknown username costs the same time as a wrong password (no enumeration by timing).
    dummy_hash: Arc<OnceCell<PasswordHash>>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    /// Hashes being computed or waiting for a thread (for the metrics).
    pub fn pending(&self) -> usize {
        self.pool.pending.load(Ordering::SeqCst)
    }

    /// Starts one argon2 thread per core: more would only queue inside the CPU while each held
    /// its own 19 MiB.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_threads(cores, cores * QUEUE_PER_THREAD)
    }

    /// `threads` argon2 threads, turning work away once `max_pending` jobs wait or run.
    fn with_threads(threads: usize, max_pending: usize) -> Self {
        Self {
            pool: Argon2Pool::start(threads, max_pending),
            dummy_hash: Arc::default(),
        }
    }

    /// Hashes `password` with argon2id, the production parameters and a fresh random salt.
    ///
    /// # Errors
    /// The OS random source or the argon2 threads failed.
    #[tracing::instrument(skip_all)]
    pub async fn hash(&self, password: &SecretString) -> anyhow::Result<PasswordHash> {
        let password = password.clone();
        self.pool
            .run(Ticket::default(), move |memory| {
                let mut salt = [0u8; 16];
                getrandom::fill(&mut salt).context("Failed to read the OS random source")?;
                let salt = SaltString::encode_b64(&salt).context("Failed to encode a salt")?;
                let params = production_params();
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                let output = argon2_output(
                    &argon2,
                    &params,
                    password.expose_secret().as_bytes(),
                    salt.as_salt(),
                    memory,
                )
                .context("Failed to hash a password")?;
                let phc = argon2::PasswordHash {
                    algorithm: argon2::ARGON2ID_IDENT,
                    version: Some(Version::V0x13.into()),
                    params: ParamsString::try_from(&params).context("Failed to encode argon2 parameters")?,
                    salt: Some(salt.as_salt()),
                    hash: Some(output),
                };
                Ok(PasswordHash(phc.to_string()))
            })
            .await
    }

    /// Checks `password` against `stored`, or against a dummy hash when there is no stored hash,
    /// so that both cases take the same time. Returns `false` for a mismatch, for a missing
    /// user and for a stored hash that cannot be parsed.
    ///
    /// # Errors
    /// Only when the argon2 threads fail; a wrong password is `Ok(false)`.
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<&PasswordHash>,
    ) -> anyhow::Result<bool> {
        self.verify_queued(password, stored, &Ticket::default()).await
    }

    /// [`Self::verify`], with the `ticket` of its job: after the future is dropped (its caller
    /// gone) or turned away ([`Saturated`]), [`Ticket::withdraw`] tells whether the password was
    /// never checked.
    ///
    /// # Errors
    /// Only when the argon2 threads fail; a wrong password is `Ok(false)`.
    #[tracing::instrument(skip_all)]
    pub async fn verify_queued(
        &self,
        password: &SecretString,
        stored: Option<&PasswordHash>,
        ticket: &Ticket,
    ) -> anyhow::Result<bool> {
        let (phc, user_exists) = match stored {
            Some(hash) => (hash.clone(), true),
            None => (self.dummy_hash().await?.clone(), false),
        };
        let password = password.clone();
        let matches = self
            .pool
            .run(ticket.clone(), move |memory| {
                // The parameters come from the PHC string, so hashes made with older settings
                // still verify.
                match verify_phc(password.expose_secret().as_bytes(), phc.as_str(), memory) {
                    Ok(matches) => Ok(matches),
                    Err(error) => {
                        tracing::error!(%error, "a stored password hash cannot be used");
                        Ok(false)
                    }
                }
            })
            .await?;
        Ok(matches && user_exists)
    }

    async fn dummy_hash(&self) -> anyhow::Result<&PasswordHash> {
        self.dummy_hash
            .get_or_try_init(|| async { self.hash(&SecretString::from(random_hex(32)?)).await })
            .await
    }
}

/// Compares `password` with a PHC string, in constant time, on the given memory.
fn verify_phc(
    password: &[u8],
    phc: &str,
    memory: &mut Vec<Block>,
) -> Result<bool, argon2::password_hash::Error> {
    let parsed = argon2::PasswordHash::new(phc)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(&parsed)?;
    let output = argon2_output(
        &Argon2::new(algorithm, version, params.clone()),
        &params,
        password,
        salt,
        memory,
    )?;
    // `Output`'s equality is constant-time.
    Ok(output == expected)
}

/// Runs argon2 in `memory`, grown to the size the parameters need and kept for the next call:
/// the allocator never sees the 19 MiB come and go, so memory stays flat however many sign-ins
/// arrive.
fn argon2_output(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: Salt<'_>,
    memory: &mut Vec<Block>,
) -> Result<Output, argon2::password_hash::Error> {
    let mut salt_buffer = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buffer)?;
    memory.resize(params.block_count(), Block::default());
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(output_len, |out| {
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut memory[..])
            .map_err(Into::into)
    });
    // A stored hash with bigger parameters than ours must not pin its memory forever.
    if memory.len() > production_params().block_count() {
        *memory = Vec::new();
    }
    output
}

/// argon2id with the OWASP minimum: 19 MiB of memory, 2 passes, 1 lane.
fn production_params() -> Params {
    // Cannot fail: the constants are within argon2's documented bounds.
    Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters")
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// A fixed set of threads, each with its own reusable argon2 memory, taking jobs from one queue.
/// Async callers wait for their result without blocking a runtime worker; a flood of sign-ins
/// waits in the queue instead of allocating more memory.
#[derive(Clone, Debug)]
struct Argon2Pool {
    jobs: mpsc::Sender<Job>,
    /// Jobs queued or running, and how many may be before new ones are turned away.
    pending: Arc<AtomicUsize>,
    max_pending: usize,
}

/// Every argon2 thread is busy and the queue is full: answer 503 and let the client retry,
/// rather than make it wait behind seconds of hashing.
#[derive(Debug, thiserror::Error)]
#[error("too many passwords are being checked at once")]
pub struct Saturated;

/// One counted place in the queue, given back when dropped.
struct PendingSlot(Arc<AtomicUsize>);

impl Drop for PendingSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether a job handed to the argon2 threads ran: decided once, by whichever comes first, a
/// thread taking the job up or its caller giving up on it.
#[derive(Clone, Debug, Default)]
pub struct Ticket(Arc<AtomicU8>);

const WAITING: u8 = 0;
const STARTED: u8 = 1;
const WITHDRAWN: u8 = 2;

impl Ticket {
    /// Called by the thread that takes the job up: `false` when it was withdrawn.
    fn start(&self) -> bool {
        self.0
            .compare_exchange(WAITING, STARTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Withdraws the job unless a thread has taken it up. `true` when it never runs (withdrawn
    /// now or before, or never queued); `false` once it started.
    pub fn withdraw(&self) -> bool {
        match self
            .0
            .compare_exchange(WAITING, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(now) => now == WITHDRAWN,
        }
    }
}

/// A queued job's counted place, held by its caller until a thread takes the job up. Dropped
/// first (the caller stopped waiting, or the job could not be queued), it withdraws the job and
/// gives the place back at once, so the count (the 503 decision, the queue metric) holds only
/// work that will run; the thread that comes to the job later passes over it. Once a thread has
/// taken the job up, the place is the thread's, given back when the work ends.
struct QueuedPlace {
    ticket: Ticket,
    pending: Arc<AtomicUsize>,
}

impl QueuedPlace {
    /// Counts a place for the job of `ticket`, or `None` (nothing counted, the job withdrawn)
    /// when `max` are taken.
    fn take(pending: &Arc<AtomicUsize>, max: usize, ticket: Ticket) -> Option<Self> {
        let place = Self {
            ticket,
            pending: Arc::clone(pending),
        };
        // Over the limit, dropping the place withdraws the job and takes the count back.
        (pending.fetch_add(1, Ordering::SeqCst) < max).then_some(place)
    }
}

impl Drop for QueuedPlace {
    fn drop(&mut self) {
        // Once started, the place is the thread's, and its `PendingSlot` gives it back.
        if self.ticket.withdraw() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Jobs allowed to wait per argon2 thread: about a quarter of a second of work at 17 ms each.
/// Beyond that a sign-in is answered 503 with `Retry-After` at once: a client is better served
/// by a quick "try again" than by seconds in line, and the queue cannot grow into a backlog
/// that outlives the flood.
const QUEUE_PER_THREAD: usize = 16;

impl Argon2Pool {
    fn start(threads: usize, max_pending: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let queue = Arc::clone(&queue);
            // Start-up only: without these threads no password can ever be checked.
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        // A panicking job must not take the thread with it.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
                    }
                })
                .expect("the OS starts the argon2 threads");
        }
        Self {
            jobs,
            pending: Arc::default(),
            max_pending,
        }
    }

    /// Runs `work` on an argon2 thread and waits for its result. Dropped before a thread took
    /// the job up, the job is withdrawn and never runs (a client that gave up costs no hashing),
    /// and its place in the queue is given back at once.
    ///
    /// # Errors
    /// [`Saturated`] when the queue is full; the threads have stopped; `work` failed.
    async fn run<T: Send + 'static>(
        &self,
        ticket: Ticket,
        work: impl FnOnce(&mut Vec<Block>) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let Some(_place) = QueuedPlace::take(&self.pending, self.max_pending, ticket.clone()) else {
            return Err(Saturated.into());
        };
        let pending = Arc::clone(&self.pending);
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            if !ticket.start() {
                // Withdrawn: its caller gave the place back.
                return;
            }
            // The caller's `QueuedPlace` left this place to the thread; given back when the work
            // ends, or if it panics.
            let slot = PendingSlot(pending);
            let outcome = work(memory);
            drop(slot);
            let _ = reply.send(outcome);
        });
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("The argon2 threads have stopped"))?;
        result.await.context("A password task failed")?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_turns_work_away_instead_of_growing() {
        let passwords = Passwords::with_threads(1, 2);
        let hash = passwords.hash(&secret("queue test password")).await.unwrap();
        let guess = secret("wrong guess here");
        let checks = (0..8).map(|_| passwords.verify(&guess, Some(&hash)));
        let outcomes = futures::future::join_all(checks).await;
        let turned_away = outcomes
            .iter()
            .filter(|outcome| outcome.as_ref().is_err_and(|error| error.is::<Saturated>()))
            .count();
        assert_eq!(turned_away, 6, "two fit the queue");
        assert!(outcomes.iter().flatten().all(|matches| !matches));
        // The queue empties again: nothing leaked.
        assert!(
            passwords
                .verify(&secret("queue test password"), Some(&hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_job_given_up_before_a_thread_took_it_never_runs() {
        let passwords = Passwords::with_threads(1, 8);
        let pool = passwords.pool.clone();
        // The only thread is held busy until released.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (busy, thread_is_busy) = oneshot::channel();
        let holder = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(Ticket::default(), move |_| {
                    let _ = busy.send(());
                    let _ = held.recv();
                    Ok(())
                })
                .await
            }
        });
        thread_is_busy.await.unwrap();

        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ticket = Ticket::default();
        {
            let ran = Arc::clone(&ran);
            let mut waiting = std::pin::pin!(pool.run(ticket.clone(), move |_| {
                ran.store(true, Ordering::SeqCst);
                Ok(())
            }));
            // The first poll queues the job; leaving the block gives up on it.
            assert!(futures::poll!(waiting.as_mut()).is_pending());
            assert_eq!(passwords.pending(), 2);
        }
        assert!(ticket.withdraw(), "given up while queued: withdrawn");
        assert_eq!(
            passwords.pending(),
            1,
            "its place was given back at once: only the held job counts"
        );

        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        // One queue, taken in order: once a later job is done, the withdrawn one was passed over.
        let later = Ticket::default();
        pool.run(later.clone(), |_| Ok(())).await.unwrap();
        assert!(!ran.load(Ordering::SeqCst), "the withdrawn job never ran");
        assert!(!later.withdraw(), "a job that ran cannot be withdrawn");
        assert_eq!(
            passwords.pending(),
            0,
            "passed over, the withdrawn job gave nothing back twice"
        );
    }

    #[tokio::test]
    async fn a_check_turned_away_by_a_full_queue_never_ran() {
        let passwords = Passwords::with_threads(1, 0);
        let ticket = Ticket::default();
        let hash = PasswordHash::from_stored("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into());
        let outcome = passwords
            .verify_queued(&secret("a password"), Some(&hash), &ticket)
            .await;
        assert!(outcome.is_err_and(|error| error.is::<Saturated>()));
        assert!(ticket.withdraw());
    }

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[test]
    fn policy_counts_characters_not_bytes() {
        assert_eq!(check_policy(&secret("seven77")), Err(WeakPassword::TooShort));
        // Eight characters, sixteen bytes: long enough.
        assert_eq!(check_policy(&secret("ééééééé1")), Ok(()));
        assert_eq!(check_policy(&secret(&"x".repeat(1024))), Ok(()));
        assert_eq!(
            check_policy(&secret(&"x".repeat(1025))),
            Err(WeakPassword::TooLong)
        );
    }

    #[test]
    fn policy_refuses_common_passwords_in_any_case() {
        for common in ["password1", "PASSWORD1", "iloveyou", "1q2w3e4r5t", "qwertyuiop"] {
            assert_eq!(
                check_policy(&secret(common)),
                Err(WeakPassword::TooCommon),
                "{common}"
            );
        }
        assert_eq!(check_policy(&secret("correct horse battery staple")), Ok(()));
    }

    #[test]
    fn policy_keeps_spaces_as_part_of_the_password() {
        // "  short " is eight characters only because its spaces count: they are never trimmed.
        assert_eq!(check_policy(&secret("  short ")), Ok(()));
    }

    #[tokio::test]
    async fn hash_round_trip_uses_argon2id_with_the_production_parameters() {
        let passwords = Passwords::new();
        let hash = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        assert!(
            passwords
                .verify(&secret("correct horse battery staple"), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(&secret("correct horse battery stapl"), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(&secret("correct horse battery staple "), Some(&hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn hashes_agree_with_the_reference_implementation_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let passwords = Passwords::new();
        let ours = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        let parsed = argon2::PasswordHash::new(ours.as_str()).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery staple", &parsed)
                .is_ok()
        );

        // Older, cheaper parameters still verify: they are read from the PHC string.
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        );
        let theirs = PasswordHash::from_stored(
            cheap
                .hash_password(b"another passphrase", &salt)
                .unwrap()
                .to_string(),
        );
        assert!(
            passwords
                .verify(&secret("another passphrase"), Some(&theirs))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(&secret("another passphrasf"), Some(&theirs))
                .await
                .unwrap()
        );
        assert!(theirs.needs_rehash(), "weaker parameters are replaced");
        assert!(!ours.needs_rehash(), "the current parameters are kept");
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, production_params());
        let other_algorithm =
            PasswordHash::from_stored(argon2i.hash_password(b"x", &salt).unwrap().to_string());
        assert!(other_algorithm.needs_rehash(), "another algorithm is replaced");
    }

    #[tokio::test]
    async fn many_concurrent_checks_all_complete_on_the_fixed_pool() {
        let passwords = Passwords::new();
        let hash = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        let checks = (0..8).map(|i| {
            let passwords = passwords.clone();
            let hash = hash.clone();
            tokio::spawn(async move {
                let guess = if i % 2 == 0 {
                    "correct horse battery staple"
                } else {
                    "wrong"
                };
                passwords.verify(&secret(guess), Some(&hash)).await.unwrap()
            })
        });
        let mut results = Vec::new();
        for check in checks.collect::<Vec<_>>() {
            results.push(check.await.unwrap());
        }
        assert_eq!(results, [true, false, true, false, true, false, true, false]);
    }

    #[tokio::test]
    async fn the_same_password_hashes_differently_each_time() {
        let passwords = Passwords::new();
        let first = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        let second = passwords
            .hash(&secret("correct horse battery staple"))
            .await
            .unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn a_missing_user_or_a_broken_hash_never_verifies() {
        let passwords = Passwords::new();
        assert!(!passwords.verify(&secret("anything at all"), None).await.unwrap());
        let broken = PasswordHash::from_stored("not a phc string".into());
        assert!(
            !passwords
                .verify(&secret("anything at all"), Some(&broken))
                .await
                .unwrap()
        );
    }

    #[test]
    fn a_hash_never_shows_in_debug_output() {
        let hash = PasswordHash::from_stored("$argon2id$v=19$secret".into());
        assert_eq!(format!("{hash:?}"), "PasswordHash(<redacted>)");
    }
}
