//! The one source of "now" for every rule about time: throttle waits, token and session
//! lifetimes, idle limits, grace windows and the purge.
//!
//! Production reads the system clock. Tests build the application with a manual clock and move
//! it forward instead of sleeping, so a rule about thirty days is tested in microseconds and
//! never fails because the machine was busy. The browser tests, which drive the release server
//! from outside, move its time through a file (`serve --clock-file`, hidden, loopback only).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

/// Where the time comes from; cheap to clone (clones share one manual time).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    source: Source,
}

#[derive(Clone, Debug, Default)]
enum Source {
    #[default]
    System,
    /// A time that moves only when a test moves it.
    Manual(Arc<Mutex<OffsetDateTime>>),
    /// The system time plus the whole seconds written in this file (none while it is missing).
    OffsetFile(Arc<Path>),
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
            source: Source::Manual(Arc::new(Mutex::new(now))),
        }
    }

    /// The system clock moved forward by the seconds a test writes in `file`: how the browser
    /// tests let time pass in a server they did not build. Read at every use, so a test's
    /// write takes effect at the next request.
    pub fn offset_by_file(file: PathBuf) -> Self {
        Self {
            source: Source::OffsetFile(file.into()),
        }
    }

    /// The current time.
    pub fn now(&self) -> OffsetDateTime {
        match &self.source {
            Source::System => OffsetDateTime::now_utc(),
            // A poisoned lock only means a test panicked while moving the clock; the time it
            // holds is still a time.
            Source::Manual(manual) => *manual.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            Source::OffsetFile(file) => OffsetDateTime::now_utc() + offset_in(file),
        }
    }

    /// Stops a server whose time a file moves (`--clock-file`) from serving beyond this
    /// machine, and says in the log that its time is a test's.
    ///
    /// # Errors
    /// The clock is a file's and `addr` is not a loopback address.
    pub fn check_address(&self, addr: SocketAddr) -> anyhow::Result<()> {
        let Source::OffsetFile(file) = &self.source else {
            return Ok(());
        };
        if !addr.ip().is_loopback() {
            anyhow::bail!(
                "--clock-file lets whoever writes the file move the server's time, so it serves \
                 only on a loopback address such as 127.0.0.1:3000, not {addr}"
            );
        }
        tracing::warn!(
            file = %file.display(),
            "TEST CLOCK: the server's time is moved by --clock-file; never use it for a real site"
        );
        Ok(())
    }

    /// Moves a manual clock forward.
    ///
    /// # Panics
    /// On any other clock: only a test moves time, and a test must build a manual clock.
    pub fn advance(&self, by: Duration) {
        let Source::Manual(manual) = &self.source else {
            panic!("only a manual clock can be moved");
        };
        let mut now = manual.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

/// The seconds written in `file`; none while it is missing or holds anything else (a test
/// writing it is the only writer).
fn offset_in(file: &Path) -> Duration {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_secs)
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

    #[test]
    fn a_file_clock_is_ahead_by_the_seconds_written_in_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("clock");
        let clock = Clock::offset_by_file(file.clone());
        let ahead = |clock: &Clock| {
            let before = OffsetDateTime::now_utc();
            (clock.now() - before).whole_seconds()
        };
        assert_eq!(ahead(&clock), 0, "no file: the system time");
        std::fs::write(&file, "3600\n").unwrap();
        assert!((3599..=3600).contains(&ahead(&clock)));
        std::fs::write(&file, "soon").unwrap();
        assert_eq!(ahead(&clock), 0, "not a number: the system time");
    }

    #[test]
    fn a_file_clock_serves_only_on_loopback() {
        let clock = Clock::offset_by_file(PathBuf::from("clock"));
        assert!(clock.check_address("127.0.0.1:3000".parse().unwrap()).is_ok());
        assert!(clock.check_address("[::1]:3000".parse().unwrap()).is_ok());
        let refused = clock.check_address("0.0.0.0:3000".parse().unwrap()).unwrap_err();
        assert!(refused.to_string().contains("loopback"), "{refused}");
        assert!(
            Clock::system()
                .check_address("0.0.0.0:3000".parse().unwrap())
                .is_ok()
        );
    }
}
