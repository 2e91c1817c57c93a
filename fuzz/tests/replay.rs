//! Every fuzz target on stable: each file of its corpus (`corpus/<target>/`),
//! then a bounded fresh run of deterministic mutations of corpus entries
//! (fixed seed, so a failure repeats). A failing input is saved under the
//! test's temporary folder and named in the failure.

use spate_fuzz::mutate::{Rng, mutate};
use spate_fuzz::{Target, target, targets};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The seed of every fresh run (mixed with the target's name).
const SEED: u64 = 0x5350_4154_4546_555a;

fn corpus_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(name)
}

/// The corpus of `name`, in file-name order.
fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
        .into_iter()
        .map(|path| {
            let data = std::fs::read(&path).expect("a corpus file reads");
            (path.display().to_string(), data)
        })
        .collect()
}

/// Runs `target` on `data`; on a panic, saves the input and fails naming it.
fn run_one(name: &str, target: Target, data: &[u8], what: &str) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(data))) {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(not a string)");
        let saved = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-failure-{name}"));
        std::fs::write(&saved, data).expect("the failing input is saved");
        panic!(
            "target {name} failed on {what}, input saved to {}: {message}",
            saved.display()
        );
    }
}

/// The stack a replay runs on: a process's main thread's (where `spate`
/// loads definitions). Unoptimised builds take several times the stack of
/// release builds per level of recursion; the limits that keep recursion
/// bounded are sized for the release build.
const REPLAY_STACK: usize = 8 << 20;

/// Replays the corpus of `name`, then runs `fresh_runs` mutations of it, on
/// a thread with [`REPLAY_STACK`].
fn replay_and_mutate(name: &'static str, fresh_runs: usize) {
    let replay = std::thread::Builder::new()
        .name(name.to_string())
        .stack_size(REPLAY_STACK)
        .spawn(move || replay_and_mutate_here(name, fresh_runs))
        .expect("the replay thread starts");
    if let Err(panic) = replay.join() {
        std::panic::resume_unwind(panic);
    }
}

fn replay_and_mutate_here(name: &str, fresh_runs: usize) {
    let target = target(name).expect("a known target");
    let corpus = corpus(name);
    for (file, data) in &corpus {
        run_one(name, target, data, file);
    }
    let mixed = name.bytes().fold(SEED, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut rng = Rng::new(mixed);
    for run in 0..fresh_runs {
        let input = &corpus[rng.below(corpus.len())].1;
        let other = &corpus[rng.below(corpus.len())].1;
        let mutated = mutate(&mut rng, input, other);
        run_one(name, target, &mutated, &format!("fresh run {run}"));
    }
}

#[cfg(feature = "ingest")]
#[test]
fn every_target_has_a_corpus() {
    let mut dirs: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"))
            .expect("fuzz/corpus reads")
            .map(|entry| {
                entry
                    .expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
    dirs.sort();
    let mut names: Vec<String> = targets().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(dirs, names);
}

#[test]
fn asl() {
    replay_and_mutate("asl", 2000);
}

#[test]
fn jsonpath() {
    replay_and_mutate("jsonpath", 2000);
}

#[test]
fn intrinsic() {
    replay_and_mutate("intrinsic", 2000);
}

#[test]
fn jsonata_parse() {
    replay_and_mutate("jsonata_parse", 2000);
}

#[test]
fn jsonata_eval() {
    replay_and_mutate("jsonata_eval", 2000);
}

#[test]
fn json() {
    replay_and_mutate("json", 2000);
}

#[cfg(feature = "ingest")]
#[test]
fn event() {
    replay_and_mutate("event", 2000);
}

#[cfg(feature = "ingest")]
#[test]
fn config() {
    replay_and_mutate("config", 1000);
}

#[test]
fn run() {
    replay_and_mutate("run", 1000);
}
