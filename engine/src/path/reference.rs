//! Reference paths: definite paths of names and indexes that say where to
//! write a value (`ResultPath`).

use super::{Path, PathSyntaxError, Root, Segment};
use crate::value::Value;

/// A path that can be written through: `$`, or `$` followed by `.name`,
/// `['name']` and `[index]` steps.
#[derive(Debug, Clone)]
pub struct ReferencePath {
    path: Path,
}

/// Why a value could not be written at a reference path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReferenceMismatch {
    /// What blocked the write, naming the step at fault.
    pub message: String,
}

impl ReferencePath {
    /// Parses a reference path; rejects wildcards, filters, slices, unions,
    /// functions and any root other than `$`.
    pub fn parse(source: &str) -> Result<ReferencePath, PathSyntaxError> {
        let path = Path::parse(source)?;
        let reject = |reason: &str| PathSyntaxError {
            path: source.to_string(),
            reason: reason.to_string(),
        };
        if path.root != Root::Input {
            return Err(reject("a reference path must start with '$'"));
        }
        if !path.definite || path.function.is_some() {
            return Err(reject(
                "a reference path may only use names and single array indexes (no wildcards, slices, filters or functions)",
            ));
        }
        Ok(ReferencePath { path })
    }

    /// The path as written.
    pub fn source(&self) -> &str {
        self.path.source()
    }

    /// `true` for `$` itself.
    pub fn is_root(&self) -> bool {
        self.path.segments.is_empty()
    }

    /// How many steps the path has (`$.a[0]`: 2): a value written through
    /// it ends up that many levels deeper.
    pub fn steps(&self) -> usize {
        self.path.segments.len()
    }

    /// The path for reading.
    pub fn as_path(&self) -> &Path {
        &self.path
    }

    /// Writes `value` into `target` at this path, in place: only the objects
    /// on the path are copied if shared, everything else stays shared. Missing
    /// objects along the way are created. An existing value that is not an
    /// object (or an index outside an existing array) is a mismatch, and then
    /// `target` is left unchanged.
    pub fn set(&self, target: &mut Value, value: Value) -> Result<(), ReferenceMismatch> {
        set_in(target, &self.path.segments, value).map_err(|step| ReferenceMismatch {
            message: format!(
                "Unable to apply ResultPath '{}' at step {step}: the input there is not a JSON object or array of the right size",
                self.path.source
            ),
        })
    }
}

/// Writes through `segments`, copying shared objects on the way (only the
/// objects on the path are copied; everything else stays shared).
fn set_in(node: &mut Value, segments: &[Segment], value: Value) -> Result<(), String> {
    let Some((first, rest)) = segments.split_first() else {
        *node = value;
        return Ok(());
    };
    match first {
        Segment::Key(key) => {
            let Some(map) = node.as_object_mut() else {
                return Err(format!("['{key}']"));
            };
            if rest.is_empty() {
                map.insert_key(key, value);
                return Ok(());
            }
            match map.get_key_mut(key) {
                Some(child) => set_in(child, rest, value),
                None => {
                    let mut child = Value::empty_object();
                    set_in(&mut child, rest, value)?;
                    map.insert_key(key, child);
                    Ok(())
                }
            }
        }
        Segment::Index(n) => {
            let Some(items) = node.as_array_mut() else {
                return Err(format!("[{n}]"));
            };
            let len = items.len() as i64;
            let i = if *n < 0 { len + n } else { *n };
            if i < 0 || i >= len {
                return Err(format!("[{n}]"));
            }
            set_in(&mut items[i as usize], rest, value)
        }
        _ => unreachable!("reference paths hold only keys and indexes"),
    }
}
