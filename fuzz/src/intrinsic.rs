//! `intrinsic`: an intrinsic call (text before the first NUL byte) parsed
//! and evaluated, its paths resolved in a document (JSON after the NUL
//! byte, or the sample document).
//!
//! Invariants: no panic; a failure is a named error.

use crate::expression_and_document;
use spate_engine::Value;
use spate_engine::error::StatesError;
use spate_engine::intrinsics::{Intrinsic, PathResolver};
use spate_engine::path::Path;

struct Document<'a>(&'a Value);

impl PathResolver for Document<'_> {
    fn resolve(&self, path: &Path) -> Result<Value, StatesError> {
        path.select_value(self.0)
            .map_err(|e| StatesError::runtime(e.to_string()))
    }
}

/// Parses and evaluates the call in `data`.
pub(crate) fn fuzz(data: &[u8]) {
    let (text, document) = expression_and_document(data);
    let Ok(call) = Intrinsic::parse(&text) else {
        return;
    };
    for path in call.paths() {
        assert!(!path.source().is_empty());
    }
    if let Err(error) = call.eval(&Document(&document)) {
        assert!(
            error.error().is_some_and(|name| !name.is_empty()),
            "{error:?}"
        );
    }
}
