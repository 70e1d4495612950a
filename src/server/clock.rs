//! The one source of "now" for every rule about time: throttle waits, token and session
//! lifetimes, idle limits, grace windows and the purge.
//!
//! Production reads the system clock. Tests build the application with a manual clock and move
//! it forward instead of sleeping, so a rule about thirty days is tested in microseconds and
//! never fails because the machine was busy.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

/// Where the time comes from; cheap to clone (clones share one manual time).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: a time that moves only when a test moves it.
    manual: Option<Arc<Mutex<OffsetDateTime>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock stopped at the present moment, moved only by [`Clock::advance`].
    pub fn manual() -> Self {
        // Whole seconds: JWT times are whole seconds, so a token's `exp` equals the expiry the
        // server computed.
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Self {
            manual: Some(Arc::new(Mutex::new(now))),
        }
    }

    /// The current time.
    pub fn now(&self) -> OffsetDateTime {
        match &self.manual {
            None => OffsetDateTime::now_utc(),
            // A poisoned lock only means a test panicked while moving the clock; the time it
            // holds is still a time.
            Some(manual) => *manual.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        }
    }

    /// Moves a manual clock forward.
    ///
    /// # Panics
    /// On the system clock: only a test moves time, and a test must build a manual clock.
    pub fn advance(&self, by: Duration) {
        let manual = self.manual.as_ref().expect("only a manual clock can be moved");
        let mut now = manual.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_its_clones_move_with_it() {
        let clock = Clock::manual();
        let copy = clock.clone();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        copy.advance(Duration::from_secs(90));
        assert_eq!(clock.now() - start, time::Duration::seconds(90));
    }

    #[test]
    fn the_system_clock_follows_the_system_time() {
        let before = OffsetDateTime::now_utc();
        let now = Clock::system().now();
        assert!(now >= before && now - before < time::Duration::seconds(5));
    }
}
