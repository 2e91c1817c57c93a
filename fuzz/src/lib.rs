//! # spate-fuzz
//!
//! Fuzz targets for Spate, each a plain `fn(&[u8])` that panics only on a
//! bug: a crash, a broken invariant, or a run past its limits. The same
//! functions run under libFuzzer on nightly (`libfuzzer/`, driven by
//! `cargo fuzz`) and, on stable, in this crate's tests, which replay every
//! corpus file (`corpus/<target>/`) and then a bounded run of deterministic
//! mutations of the corpus ([`mutate`]). `README.md` says how to run them.
//!
//! | target | what it feeds |
//! | --- | --- |
//! | `asl` | definitions to the loader, the validator and the compiler |
//! | `jsonpath` | JSONPath (and reference path) parsing and evaluation |
//! | `intrinsic` | intrinsic calls (`States.Format(...)`), parsed and evaluated |
//! | `jsonata_parse` | JSONata parsing and compilation |
//! | `jsonata_eval` | JSONata evaluation under its limits |
//! | `json` | the JSON parser every input goes through (`value::parse_json`) |
//! | `event` | Kafka event decoding, envelopes and execution names |
//! | `config` | the Kafka sections of the `spate run` file |
//! | `run` | generated valid definitions run on the runtime (structure-aware) |

mod asl;
mod choices;
#[cfg(feature = "ingest")]
mod config;
#[cfg(feature = "ingest")]
mod event;
mod generate;
mod intrinsic;
mod json;
mod jsonata;
mod jsonpath;
pub mod mutate;
mod run;

use spate_engine::value::{Value, parse_json};

/// A fuzz target: any bytes in, a panic only on a bug.
pub type Target = fn(&[u8]);

/// The targets of the engine, by name: the name of each one's corpus folder
/// and cargo-fuzz binary.
pub const ENGINE_TARGETS: &[(&str, Target)] = &[
    ("asl", asl::fuzz),
    ("jsonpath", jsonpath::fuzz),
    ("intrinsic", intrinsic::fuzz),
    ("jsonata_parse", jsonata::fuzz_parse),
    ("jsonata_eval", jsonata::fuzz_eval),
    ("json", json::fuzz),
    ("run", run::fuzz),
];

/// The targets of the Kafka ingest (feature `ingest`).
#[cfg(feature = "ingest")]
pub const INGEST_TARGETS: &[(&str, Target)] = &[("event", event::fuzz), ("config", config::fuzz)];

/// Every target built in.
pub fn targets() -> impl Iterator<Item = (&'static str, Target)> {
    #[cfg(feature = "ingest")]
    let ingest = INGEST_TARGETS;
    #[cfg(not(feature = "ingest"))]
    let ingest: &[(&str, Target)] = &[];
    ENGINE_TARGETS.iter().chain(ingest).copied()
}

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    targets().find(|(n, _)| *n == name).map(|(_, t)| t)
}

/// Splits an input made of an expression and, after its first NUL byte, an
/// optional JSON document to evaluate it against. Without a NUL byte, or
/// when the document is not JSON, the document is [`sample_document`].
fn expression_and_document(data: &[u8]) -> (String, Value) {
    let (text, document) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], parse_json(&data[nul + 1..]).ok()),
        None => (data, None),
    };
    (
        String::from_utf8_lossy(text).into_owned(),
        document.unwrap_or_else(sample_document),
    )
}

/// The document expressions run against when the input brings none: a bit
/// of every JSON type, nested.
fn sample_document() -> Value {
    spate_engine::json!({
        "n": 3,
        "f": -2.5,
        "s": "text",
        "t": true,
        "z": null,
        "items": [1, 2, {"id": "a", "price": 10}, [4, 5], "x"],
        "o": {"p": {"q": [true, false, null]}, "": 0, "a.b": "dot"},
        "orders": [
            {"id": 1, "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]},
            {"id": 2, "lines": []}
        ]
    })
}
