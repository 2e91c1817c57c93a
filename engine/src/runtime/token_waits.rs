//! One shard's `.waitForTaskToken` tasks, by task number: which fiber waits,
//! the token's secret, and when its heartbeat is next due.

use crate::task::TaskToken;
use crate::time::Timestamp;
use std::collections::HashMap;
use std::time::Duration;

/// A task waiting for its callback (40 bytes: a million of them wait in
/// about 100 MB with the table's slack).
pub(crate) struct TokenWait {
    pub slot: u32,
    pub generation: u32,
    secret: u128,
    /// `HeartbeatSeconds` (whole seconds, as ASL writes it; 0: none).
    heartbeat_secs: u32,
    /// When the task fails with `States.HeartbeatTimeout` unless a
    /// heartbeat comes first (meaningless without a heartbeat).
    heartbeat_due: Timestamp,
}

/// The waiting tasks of one shard.
#[derive(Default)]
pub(crate) struct TokenWaits {
    waits: HashMap<u64, TokenWait, foldhash::fast::FixedState>,
}

impl TokenWaits {
    /// Task `task` of the fiber in `slot` (at `generation`) waits for the
    /// callback of `token`.
    pub fn register(
        &mut self,
        token: &TaskToken,
        slot: u32,
        generation: u32,
        heartbeat: Option<Duration>,
        now: Timestamp,
    ) {
        let heartbeat_secs =
            heartbeat.map_or(0, |h| u32::try_from(h.as_secs()).unwrap_or(u32::MAX));
        self.waits.insert(
            token.number,
            TokenWait {
                slot,
                generation,
                secret: token.secret,
                heartbeat_secs,
                heartbeat_due: now.plus(Duration::from_secs(u64::from(heartbeat_secs))),
            },
        );
    }

    /// The task a callback's token names, if it still waits and the token
    /// is the one it was given: `Err(true)` when a waiting task has that
    /// number but another secret (a forged token), `Err(false)` when no task
    /// with that number waits.
    pub fn find(&mut self, token: &TaskToken) -> Result<&mut TokenWait, bool> {
        match self.waits.get_mut(&token.number) {
            Some(wait) if wait.secret == token.secret => Ok(wait),
            Some(_) => Err(true),
            None => Err(false),
        }
    }

    /// A heartbeat arrived: the next one is due a heartbeat interval from now.
    pub fn beat(wait: &mut TokenWait, now: Timestamp) {
        wait.heartbeat_due = now.plus(Duration::from_secs(u64::from(wait.heartbeat_secs)));
    }

    /// When task `task`'s heartbeat is due, if it waits for a token.
    pub fn heartbeat_due(&self, task: u64) -> Option<Timestamp> {
        self.waits
            .get(&task)
            .filter(|w| w.heartbeat_secs > 0)
            .map(|w| w.heartbeat_due)
    }

    /// Task `task` stopped waiting (answered, timed out, dropped).
    pub fn remove(&mut self, task: u64) {
        if !self.waits.is_empty() {
            self.waits.remove(&task);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TokenWait;

    #[test]
    fn a_waiting_task_stays_small() {
        assert!(
            std::mem::size_of::<TokenWait>() <= 48,
            "{}",
            std::mem::size_of::<TokenWait>()
        );
    }
}
