//! The writer thread of one destination: it drains a bounded history
//! channel (shards only `try_send` into it, so they never wait for I/O; a
//! full channel drops and counts), turns each event into its AWS record and
//! emits it as a `tracing` event with the record's fields; the thread's own
//! subscriber has a [`RecordLayer`] that writes each record as one JSON line.

use super::record::Record;
use crossbeam::channel::{Receiver, Sender, bounded};
use spate_engine::interp::{HistoryReceiver, HistorySender, history_channel};
use std::io::{self, BufWriter, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The `tracing` target of execution log records.
pub const TARGET: &str = "spate::execution_log";

/// History events a destination queues before it drops (and counts) them.
pub const CHANNEL_CAPACITY: usize = 65_536;

/// A buffered output shared by the layer (which writes) and the thread
/// (which flushes when it has nothing more to write).
#[derive(Clone)]
pub struct SharedOutput(Arc<Mutex<BufWriter<Box<dyn Write + Send>>>>);

impl SharedOutput {
    /// Buffers writes to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> SharedOutput {
        SharedOutput(Arc::new(Mutex::new(BufWriter::with_capacity(
            64 * 1024,
            out,
        ))))
    }

    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let mut out = self.0.lock().unwrap_or_else(|p| p.into_inner());
        out.write_all(line)?;
        out.write_all(b"\n")
    }

    fn flush(&self) -> io::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

/// A `tracing` layer writing each event of [`TARGET`] as one JSON object:
/// its fields in the order they were recorded, every value a JSON string
/// except `details`, which is JSON text already and is written as it is.
pub struct RecordLayer {
    out: SharedOutput,
    /// The first write error, if any (later ones are alike).
    error: FirstError,
}

/// The first write error of a layer, for its owner to report.
pub type FirstError = Arc<Mutex<Option<io::Error>>>;

impl RecordLayer {
    /// A layer writing to `out`, keeping its first write error in `error`.
    pub fn new(out: SharedOutput, error: FirstError) -> RecordLayer {
        RecordLayer { out, error }
    }
}

impl<S: Subscriber> Layer<S> for RecordLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut line = JsonLine(String::with_capacity(512));
        line.0.push('{');
        event.record(&mut line);
        line.0.push('}');
        if let Err(e) = self.out.write_line(line.0.as_bytes()) {
            self.error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(e);
        }
    }
}

/// A JSON object being written from an event's fields.
struct JsonLine(String);

impl JsonLine {
    fn key(&mut self, field: &Field) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        push_json_string(&mut self.0, field.name());
        self.0.push(':');
    }
}

impl Visit for JsonLine {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        push_json_string(&mut self.0, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.key(field);
        if field.name() == "details" {
            use std::fmt::Write as _;
            let _ = write!(self.0, "{value:?}");
        } else {
            push_json_string(&mut self.0, &format!("{value:?}"));
        }
    }
}

/// Appends `text` as a JSON string (quoted, with `"`, `\\` and control
/// characters escaped).
fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    if !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut plain = 0;
    for (i, b) in text.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[plain..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        plain = i + 1;
    }
    out.push_str(&text[plain..]);
    out.push('"');
}

/// Emits `record` as a `tracing` event of [`TARGET`].
pub fn emit(record: &Record) {
    tracing::info!(
        target: TARGET,
        id = record.id.as_str(),
        "type" = record.event_type.as_str(),
        details = tracing::field::display(&record.details),
        previous_event_id = record.previous_event_id.as_str(),
        event_timestamp = record.event_timestamp.as_str(),
        execution_arn = record.execution_arn.as_str(),
        redrive_count = record.redrive_count,
    );
}

/// What a writer did in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterTotals {
    /// Records written.
    pub written: u64,
    /// Events dropped because the channel was full.
    pub dropped: u64,
}

/// A running writer thread.
pub struct Writer {
    sender: Arc<HistorySender>,
    stop: Sender<()>,
    thread: JoinHandle<(WriterTotals, Option<io::Error>)>,
}

impl Writer {
    /// Starts a thread writing the records of the events sent to
    /// [`Writer::sender`] to `out`.
    pub fn start(name: &str, out: Box<dyn Write + Send>) -> io::Result<Writer> {
        let (sender, events) = history_channel(CHANNEL_CAPACITY);
        let (stop, stopped) = bounded(1);
        let thread = std::thread::Builder::new()
            .name(format!("exec-log {name}"))
            .spawn(move || run(events, stopped, SharedOutput::new(out)))?;
        Ok(Writer {
            sender: Arc::new(sender),
            stop,
            thread,
        })
    }

    /// The sink to give executions (see [`spate_engine::interp::History`]).
    pub fn sender(&self) -> Arc<HistorySender> {
        Arc::clone(&self.sender)
    }

    /// Writes what is queued, flushes and stops; the first write error, if
    /// any.
    pub fn stop(self) -> (WriterTotals, Option<io::Error>) {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or_else(|_| {
            (
                WriterTotals::default(),
                Some(io::Error::other("the execution log writer panicked")),
            )
        })
    }
}

fn run(
    events: HistoryReceiver,
    stopped: Receiver<()>,
    out: SharedOutput,
) -> (WriterTotals, Option<io::Error>) {
    let error = FirstError::default();
    let subscriber =
        tracing_subscriber::registry().with(RecordLayer::new(out.clone(), Arc::clone(&error)));
    let mut written = 0;
    tracing::subscriber::with_default(subscriber, || {
        loop {
            crossbeam::select! {
                recv(events.events()) -> event => match event {
                    Ok(event) => {
                        emit(&Record::of(&event));
                        written += 1;
                    }
                    Err(_) => break,
                },
                recv(stopped) -> _ => {
                    for event in events.events().try_iter() {
                        emit(&Record::of(&event));
                        written += 1;
                    }
                    break;
                }
            }
            if events.events().is_empty() {
                let _ = out.flush();
            }
        }
    });
    let flushed = out.flush().err();
    let totals = WriterTotals {
        written,
        dropped: events.dropped(),
    };
    let error = error.lock().unwrap_or_else(|p| p.into_inner()).take();
    (totals, error.or(flushed))
}

#[cfg(test)]
mod tests {
    use super::push_json_string;

    #[test]
    fn strings_are_escaped_as_json() {
        for text in [
            "plain",
            "",
            "a\"b\\c",
            "line\nbreak\r\ttab",
            "\u{1}\u{1f}",
            "é😀",
        ] {
            let mut out = String::new();
            push_json_string(&mut out, text);
            let back: String = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
            assert_eq!(back, text);
        }
    }
}
