//! `jsonpath`: a JSONPath (text before the first NUL byte) parsed as a path
//! and as a reference path, and evaluated against a document (JSON after the
//! NUL byte, or the sample document).
//!
//! Invariants: the fast lookup of a simple path agrees with the general
//! evaluation; a value written through a reference path reads back.

use crate::expression_and_document;
use spate_engine::Value;
use spate_engine::path::{Path, ReferencePath, Selection};

/// Parses and evaluates the path in `data`.
pub(crate) fn fuzz(data: &[u8]) {
    let (text, document) = expression_and_document(data);
    if let Ok(path) = Path::parse(&text) {
        assert_eq!(path.source(), text);
        let selected = path.select(&document);
        if path.is_simple() {
            let fast = path.get(&document).cloned().map(Selection::One);
            assert_eq!(fast, selected.clone().ok(), "get and select disagree");
        }
        if path.is_definite()
            && let Ok(selection) = &selected
        {
            assert!(matches!(selection, Selection::One(_)), "{selection:?}");
        }
        assert_eq!(path.is_present(&document), is_something(&selected));
    }
    if let Ok(reference) = ReferencePath::parse(&text) {
        let marker = Value::string("written by the fuzzer");
        let mut target = document.clone();
        if reference.set(&mut target, marker.clone()).is_ok() {
            assert_eq!(reference.as_path().get(&target), Some(&marker));
        } else {
            assert_eq!(target, document, "a refused write changed the document");
        }
    }
}

fn is_something<E>(selected: &Result<Selection, E>) -> bool {
    match selected {
        Ok(Selection::One(_)) => true,
        Ok(Selection::Many(items)) => !items.is_empty(),
        Err(_) => false,
    }
}
