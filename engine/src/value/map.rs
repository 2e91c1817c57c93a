//! Insertion-ordered JSON object map.
//!
//! Workflow payloads are mostly small objects (a handful of keys), where a
//! linear scan over a vector beats hashing. Each entry carries a fingerprint
//! of its key (its length and first fifteen bytes in two `u64`s), so a scan
//! compares integers and touches the key's bytes only for keys longer than
//! fifteen bytes whose fingerprints match. Large
//! objects also get a hash index, built on demand, so lookups stay O(1). Both
//! are implementation details behind the same API.

use super::{Str, Value};
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Number of entries from which a hash index is kept.
const INDEX_FROM_LEN: usize = 16;

#[derive(Clone)]
struct Entry {
    fingerprint: Fingerprint,
    key: Str,
    value: Value,
}

/// A key's length (saturated at 255) and first fifteen bytes, zero padded:
/// equal fingerprints of keys shorter than sixteen bytes mean equal keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Fingerprint(u64, u64);

/// An insertion-ordered map from string keys to values. Inserting an existing
/// key replaces its value in place (keeping its position).
#[derive(Default)]
pub struct Map {
    entries: Vec<Entry>,
    index: Option<Box<HashTable<u32>>>,
}

#[inline]
fn fingerprint(key: &str) -> Fingerprint {
    let bytes = key.as_bytes();
    let mut words = [0u8; 16];
    let n = bytes.len().min(15);
    // A fixed-size copy through a stack buffer compiles to two loads, where a
    // variable-length `copy_from_slice` would call memcpy.
    for (i, b) in bytes[..n].iter().enumerate() {
        words[i] = *b;
    }
    words[15] = bytes.len().min(255) as u8;
    let (low, high) = words.split_at(8);
    Fingerprint(
        u64::from_le_bytes(low.try_into().unwrap_or_default()),
        u64::from_le_bytes(high.try_into().unwrap_or_default()),
    )
}

/// An object key with its lookup fingerprint computed once, for keys known
/// ahead of time (path steps, template fields): lookups and inserts with a
/// `Key` skip fingerprinting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Key {
    text: Str,
    fingerprint: Fingerprint,
}

impl Key {
    /// A key for `text`.
    pub fn new(text: impl Into<Str>) -> Key {
        let text = text.into();
        let fingerprint = fingerprint(&text);
        Key { text, fingerprint }
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The key's text as a shared string.
    pub fn text(&self) -> &Str {
        &self.text
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn hash_key(key: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(0x5eed_5a7e).hash_one(key)
}

impl Map {
    /// An empty map.
    pub fn new() -> Map {
        Map::default()
    }

    /// An empty map with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> Map {
        Map {
            entries: Vec::with_capacity(capacity),
            index: None,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[inline]
    fn position(&self, key: &str) -> Option<usize> {
        self.position_with(key, fingerprint(key))
    }

    #[inline]
    fn position_with(&self, key: &str, wanted: Fingerprint) -> Option<usize> {
        match &self.index {
            Some(index) => {
                let entries = &self.entries;
                index
                    .find(hash_key(key), |&i| entries[i as usize].key == key)
                    .map(|&i| i as usize)
            }
            None => {
                let short = key.len() < 16;
                self.entries
                    .iter()
                    .position(|e| e.fingerprint == wanted && (short || e.key == key))
            }
        }
    }

    /// The value for a prepared key.
    #[inline]
    pub fn get_key(&self, key: &Key) -> Option<&Value> {
        self.position_with(&key.text, key.fingerprint)
            .map(|i| &self.entries[i].value)
    }

    /// Mutable access to the value for a prepared key.
    pub fn get_key_mut(&mut self, key: &Key) -> Option<&mut Value> {
        self.position_with(&key.text, key.fingerprint)
            .map(move |i| &mut self.entries[i].value)
    }

    /// Inserts or replaces with a prepared key; returns the previous value.
    pub fn insert_key(&mut self, key: &Key, value: Value) -> Option<Value> {
        if let Some(i) = self.position_with(&key.text, key.fingerprint) {
            return Some(std::mem::replace(&mut self.entries[i].value, value));
        }
        self.push_entry(key.text.clone(), key.fingerprint, value);
        None
    }

    /// [`push_unique`](Map::push_unique) with a prepared key.
    pub fn push_unique_key(&mut self, key: &Key, value: Value) {
        debug_assert!(!self.contains_key(&key.text), "duplicate key {}", key.text);
        self.push_entry(key.text.clone(), key.fingerprint, value);
    }

    /// The value for `key`.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].value)
    }

    /// Mutable access to the value for `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.position(key).map(move |i| &mut self.entries[i].value)
    }

    /// `true` when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Inserts or replaces; returns the previous value of `key`.
    pub fn insert(&mut self, key: Str, value: Value) -> Option<Value> {
        if let Some(i) = self.position(&key) {
            return Some(std::mem::replace(&mut self.entries[i].value, value));
        }
        self.push_new(key, value);
        None
    }

    /// Appends an entry whose key the caller knows is not present yet
    /// (checked in debug builds). Used when building objects from templates
    /// whose keys were de-duplicated at compile time.
    pub fn push_unique(&mut self, key: Str, value: Value) {
        debug_assert!(!self.contains_key(&key), "duplicate key {key}");
        self.push_new(key, value);
    }

    fn push_new(&mut self, key: Str, value: Value) {
        let fingerprint = fingerprint(&key);
        self.push_entry(key, fingerprint, value);
    }

    fn push_entry(&mut self, key: Str, fingerprint: Fingerprint, value: Value) {
        let at = self.entries.len();
        if let Some(index) = &mut self.index {
            let entries = &self.entries;
            index.insert_unique(hash_key(&key), at as u32, |&i| {
                hash_key(&entries[i as usize].key)
            });
        }
        self.entries.push(Entry {
            fingerprint,
            key,
            value,
        });
        if self.index.is_none() && self.entries.len() >= INDEX_FROM_LEN {
            self.rebuild_index();
        }
    }

    fn rebuild_index(&mut self) {
        let mut index = HashTable::with_capacity(self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            let entries = &self.entries;
            index.insert_unique(hash_key(&e.key), i as u32, |&j| {
                hash_key(&entries[j as usize].key)
            });
        }
        self.index = Some(Box::new(index));
    }

    /// Removes `key`, keeping the order of the others; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        let entry = self.entries.remove(i);
        if self.index.is_some() {
            if self.entries.len() >= INDEX_FROM_LEN {
                self.rebuild_index();
            } else {
                self.index = None;
            }
        }
        Some(entry.value)
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Str, &Value)> + DoubleEndedIterator {
        self.entries.iter().map(|e| (&e.key, &e.value))
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Str> + DoubleEndedIterator {
        self.entries.iter().map(|e| &e.key)
    }

    /// Values in insertion order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> + DoubleEndedIterator {
        self.entries.iter().map(|e| &e.value)
    }

    /// The entry at `position` in insertion order.
    pub fn get_index(&self, position: usize) -> Option<(&Str, &Value)> {
        self.entries.get(position).map(|e| (&e.key, &e.value))
    }
}

/// A copy is made when a shared object is about to be changed (copy on
/// write), almost always to add a key (`ResultPath`): leave room for it, so
/// the copy is not reallocated at once.
impl Clone for Map {
    fn clone(&self) -> Map {
        let mut entries = Vec::with_capacity(self.entries.len() + 2);
        entries.extend(self.entries.iter().cloned());
        Map {
            entries,
            index: self.index.clone(),
        }
    }
}

impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl FromIterator<(Str, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (Str, Value)>>(iter: I) -> Map {
        let iter = iter.into_iter();
        let mut map = Map::with_capacity(iter.size_hint().0);
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

/// Owning iterator over a map's entries, in insertion order.
pub struct IntoIter(std::vec::IntoIter<Entry>);

impl Iterator for IntoIter {
    type Item = (Str, Value);
    fn next(&mut self) -> Option<(Str, Value)> {
        self.0.next().map(|e| (e.key, e.value))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = IntoIter;
    fn into_iter(self) -> IntoIter {
        IntoIter(self.entries.into_iter())
    }
}

/// Borrowing iterator over a map's entries, in insertion order.
pub struct Iter<'a>(std::slice::Iter<'a, Entry>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Str, &'a Value);
    fn next(&mut self) -> Option<(&'a Str, &'a Value)> {
        self.0.next().map(|e| (&e.key, &e.value))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        Iter(self.entries.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order_and_replaces_in_place() {
        let mut m = Map::new();
        m.insert("b".into(), Value::from(1));
        m.insert("a".into(), Value::from(2));
        m.insert("b".into(), Value::from(3));
        let keys: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(m.get("b"), Some(&Value::from(3)));
    }

    #[test]
    fn fingerprints_tell_keys_apart() {
        let mut m = Map::new();
        // shared prefixes, different lengths or tails, around the 15-byte edge
        let keys = [
            "abcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghij",
            "",
            "a",
            "ab\0",
            "abcdefghijklmno",
            "abcdefghijklmnp",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
        ];
        for key in keys {
            m.insert(Str::new(key), Value::from(key));
        }
        for key in keys {
            assert_eq!(m.get(key), Some(&Value::from(key)), "{key:?}");
        }
        assert_eq!(m.get("ab"), None);
        assert_eq!(m.get("abcdefgz"), None);
        assert_eq!(m.get("abcdefghijklmnoz"), None);
        let long = "k".repeat(300);
        m.insert(Str::new(&long), Value::from(1));
        assert_eq!(m.get(&long), Some(&Value::from(1)));
        assert_eq!(m.get(&"k".repeat(301)), None);
    }

    #[test]
    fn prepared_keys_behave_like_strings() {
        let mut m = Map::new();
        let long = Key::new("temperature");
        let short = Key::new("id");
        m.push_unique_key(&long, Value::from(1));
        assert_eq!(m.insert_key(&short, Value::from(2)), None);
        assert_eq!(m.insert_key(&short, Value::from(3)), Some(Value::from(2)));
        assert_eq!(m.get("temperature"), Some(&Value::from(1)));
        assert_eq!(m.get_key(&Key::new("id")), Some(&Value::from(3)));
        assert_eq!(m.get_key(&Key::new("temperaturf")), None);
        *m.get_key_mut(&long).unwrap() = Value::from(9);
        assert_eq!(m.get("temperature"), Some(&Value::from(9)));
    }

    #[test]
    fn large_maps_use_the_index_consistently() {
        let mut m = Map::new();
        for i in 0..100 {
            m.insert(Str::from(format!("k{i}")), Value::from(i as i64));
        }
        for i in 0..100 {
            assert_eq!(m.get(&format!("k{i}")), Some(&Value::from(i as i64)));
        }
        assert_eq!(m.remove("k50"), Some(Value::from(50)));
        assert_eq!(m.get("k50"), None);
        assert_eq!(m.get("k51"), Some(&Value::from(51)));
        assert_eq!(m.len(), 99);
        for i in 0..95 {
            m.remove(&format!("k{i}"));
        }
        assert_eq!(m.len(), 5);
        assert_eq!(m.get("k99"), Some(&Value::from(99)));
        assert!(m.index.is_none());
    }
}
