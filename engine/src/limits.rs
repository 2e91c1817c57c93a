//! AWS Step Functions service limits that Spate enforces, defined once.
//! Each constant names the quota in AWS's words; everything that applies one
//! (the compiler, the interpreter, the runtime, the Kafka ingest, the command
//! line) reads it from here.

use std::time::Duration;

/// The largest input, output, state result or task result: 256 KiB of
/// UTF-8 JSON ("Maximum input or output size for a task, state, or
/// execution").
pub const PAYLOAD_BYTES: usize = 256 * 1024;

/// The longest an Express execution may run: five minutes.
pub const EXPRESS_MAX_DURATION: Duration = Duration::from_secs(300);

/// The largest state machine definition: 1 MiB ("Maximum request size").
pub const DEFINITION_BYTES: usize = 1024 * 1024;

/// One variable's value, in bytes of compact JSON.
pub const VARIABLE_BYTES: usize = 256 * 1024;

/// The values of one `Assign` together.
pub const ASSIGN_BYTES: usize = 256 * 1024;

/// All the variables of one execution together.
pub const EXECUTION_VARIABLE_BYTES: usize = 10 * 1024 * 1024;
