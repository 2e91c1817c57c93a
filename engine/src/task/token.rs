//! Task tokens: the opaque strings that `.waitForTaskToken` tasks hand out as
//! `$$.Task.Token`, and that callbacks (`SendTaskSuccess`, `SendTaskFailure`,
//! `SendTaskHeartbeat`) bring back.
//!
//! A token is URL-safe base64 (no padding) of 35 bytes:
//! a format byte, the shard that holds the waiting task (2 bytes), the
//! task's number on that shard (8 bytes), the runtime's epoch (8 random
//! bytes drawn when the runtime starts) and 16 random bytes drawn for this
//! token. The shard and number route a callback straight to the task; the
//! epoch tells a token of an earlier process from one of this process; the
//! 128 random bits make a token impossible to guess, even knowing others.

use crate::value::Str;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::cell::Cell;

const FORMAT: u8 = 1;
const BYTES: usize = 1 + 2 + 8 + 8 + 16;

/// A decoded task token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskToken {
    /// The shard that holds the task.
    pub shard: u16,
    /// The task's number on its shard (unique for the runtime's life).
    pub number: u64,
    /// The runtime that issued it.
    pub epoch: u64,
    /// The token's random part.
    pub secret: u128,
}

impl TaskToken {
    /// The token as the string handed to workflows and callers.
    pub fn encode(&self) -> Str {
        let mut bytes = [0u8; BYTES];
        bytes[0] = FORMAT;
        bytes[1..3].copy_from_slice(&self.shard.to_be_bytes());
        bytes[3..11].copy_from_slice(&self.number.to_be_bytes());
        bytes[11..19].copy_from_slice(&self.epoch.to_be_bytes());
        bytes[19..35].copy_from_slice(&self.secret.to_be_bytes());
        Str::from(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Decodes a token string; `None` when it is not one Spate could have
    /// issued (wrong length, alphabet or format).
    pub fn decode(text: &str) -> Option<TaskToken> {
        if text.len() != BYTES.div_ceil(3) * 4 - 1 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let bytes: [u8; BYTES] = bytes.try_into().ok()?;
        if bytes[0] != FORMAT {
            return None;
        }
        Some(TaskToken {
            shard: u16::from_be_bytes(bytes[1..3].try_into().ok()?),
            number: u64::from_be_bytes(bytes[3..11].try_into().ok()?),
            epoch: u64::from_be_bytes(bytes[11..19].try_into().ok()?),
            secret: u128::from_be_bytes(bytes[19..35].try_into().ok()?),
        })
    }
}

/// Numbers the tasks of one shard and issues their tokens: numbers count up
/// from 1 (a token's number is its task's), each token gets fresh random
/// bits. Lives on the shard's thread.
#[derive(Debug)]
pub struct TokenMint {
    shard: u16,
    epoch: u64,
    next: Cell<u64>,
}

impl TokenMint {
    /// The mint of shard `shard` of the runtime with `epoch`.
    pub fn new(shard: u16, epoch: u64) -> TokenMint {
        TokenMint {
            shard,
            epoch,
            next: Cell::new(1),
        }
    }

    /// A new token, for a task that waits for its callback.
    pub fn mint(&self) -> TaskToken {
        TaskToken {
            shard: self.shard,
            number: self.next_task(),
            epoch: self.epoch,
            secret: rand::random(),
        }
    }

    /// A new task number, for a task that needs no token.
    pub fn next_task(&self) -> u64 {
        let number = self.next.get();
        self.next.set(number + 1);
        number
    }

    /// `true` if this mint issued a token with `number` (so a callback for
    /// it that finds no waiting task comes too late, rather than for a task
    /// that never existed).
    pub fn issued(&self, number: u64) -> bool {
        number != 0 && number < self.next.get()
    }
}

/// Why a callback (`SendTaskSuccess`, `SendTaskFailure`,
/// `SendTaskHeartbeat`) was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// The string is not a task token at all (AWS: `InvalidToken`).
    #[error("InvalidToken: the task token is malformed")]
    InvalidToken,
    /// A well-formed token that no running task of this runtime was ever
    /// given (another process's, or made up) (AWS: `TaskDoesNotExist`).
    #[error("TaskDoesNotExist: no task was given this task token")]
    TaskDoesNotExist,
    /// The task was given this token but is no longer waiting: it was
    /// answered already, timed out, or its execution ended (AWS:
    /// `TaskTimedOut`).
    #[error("TaskTimedOut: the task of this token timed out or was already closed")]
    TaskTimedOut,
    /// The runtime is shutting down.
    #[error("the runtime is shutting down")]
    ShuttingDown,
}

impl CallbackError {
    /// AWS's error code for it.
    pub fn aws_code(&self) -> &'static str {
        match self {
            CallbackError::InvalidToken => "InvalidToken",
            CallbackError::TaskDoesNotExist => "TaskDoesNotExist",
            CallbackError::TaskTimedOut => "TaskTimedOut",
            CallbackError::ShuttingDown => "ServiceUnavailable",
        }
    }
}

/// The suffix that makes a Task wait for a callback.
pub const WAIT_FOR_TASK_TOKEN: &str = ".waitForTaskToken";

/// `true` for an activity ARN (`arn:aws:states:<region>:<account>:activity:<name>`):
/// its Task waits for a worker's callback, as a `.waitForTaskToken` task
/// does, and its handler hands the token and input to the worker.
pub fn is_activity_arn(resource: &str) -> bool {
    let mut fields = resource.splitn(7, ':');
    let parts: [Option<&str>; 7] = std::array::from_fn(|_| fields.next());
    matches!(
        parts,
        [Some("arn"), Some(_), Some("states"), Some(_), Some(_), Some("activity"), Some(name)]
            if !name.is_empty() && !name.contains(':')
    )
}

/// `true` if a Task with `resource` waits for a callback with a task token:
/// a `.waitForTaskToken` integration or an activity.
pub fn waits_for_callback(resource: &str) -> bool {
    resource.ends_with(WAIT_FOR_TASK_TOKEN) || is_activity_arn(resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_differ() {
        let mint = TokenMint::new(3, 0xfeed);
        let a = mint.mint();
        let b = mint.mint();
        assert_eq!((a.number, b.number), (1, 2));
        assert_ne!(a.secret, b.secret);
        let text = a.encode();
        assert_eq!(text.len(), 47);
        assert_eq!(TaskToken::decode(&text), Some(a));
        assert!(mint.issued(2) && !mint.issued(3) && !mint.issued(0));
    }

    #[test]
    fn activities_wait_for_callbacks() {
        assert!(waits_for_callback(
            "arn:aws:states:us-east-1:1:activity:work"
        ));
        assert!(waits_for_callback("notify.waitForTaskToken"));
        for other in [
            "arn:aws:states:::lambda:invoke",
            "arn:aws:states:us-east-1:1:activity:",
            "arn:aws:states:us-east-1:1:activity:a:b",
            "arn:aws:states:us-east-1:1:stateMachine:work",
        ] {
            assert!(!waits_for_callback(other), "{other}");
        }
    }

    #[test]
    fn malformed_tokens_do_not_decode() {
        let good = TokenMint::new(0, 1).mint().encode();
        for bad in [
            "",
            "x",
            &good[1..],
            &format!("{good}A"),
            &good.replace(|c: char| c.is_ascii_alphanumeric(), "!"),
        ] {
            assert_eq!(TaskToken::decode(bad), None, "{bad}");
        }
        let mut wrong_format = URL_SAFE_NO_PAD.decode(good.as_str()).unwrap();
        wrong_format[0] = 9;
        assert_eq!(
            TaskToken::decode(&URL_SAFE_NO_PAD.encode(wrong_format)),
            None
        );
    }
}
