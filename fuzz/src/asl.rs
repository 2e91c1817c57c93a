//! `asl`: definitions through the loader, the validator and the compiler.
//!
//! Invariants: every problem names a JSON pointer (empty or starting with
//! `/`) and says what is wrong; the validator and the compiler agree (a
//! definition that validates compiles, one that does not is refused with the
//! same problems).

use spate_engine::Diagnostic;
use spate_engine::asl::parse_definition;
use spate_engine::plan::{CompileOptions, from_definition};
use spate_engine::validate::validate;

/// Loads, validates and compiles `data` as a definition.
pub(crate) fn fuzz(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let compiled = from_definition(&text, &CompileOptions::default());
    let problems = match parse_definition(&text) {
        Err(structural) => structural.0,
        Ok(machine) => validate(&machine),
    };
    check_problems(&problems);
    match compiled {
        Ok(_) => assert!(
            problems.is_empty(),
            "compiled a definition the validator refuses: {problems:?}"
        ),
        Err(refused) => assert_eq!(
            refused.0, problems,
            "the compiler and the validator disagree"
        ),
    }
}

fn check_problems(problems: &[Diagnostic]) {
    for problem in problems {
        assert!(
            problem.pointer.is_empty() || problem.pointer.starts_with('/'),
            "not a JSON pointer: {problem:?}"
        );
        assert!(!problem.message.is_empty(), "no message: {problem:?}");
    }
}
