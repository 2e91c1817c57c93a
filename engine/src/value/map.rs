//! Insertion-ordered JSON object map.
//!
//! Workflow payloads are mostly small objects (a handful of keys), where a
//! linear scan over a vector beats hashing. Large objects get a hash index
//! built on demand so lookups stay O(1); the index is an implementation detail
//! behind the same API.

use super::{Str, Value};
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Number of entries from which a hash index is kept.
const INDEX_FROM_LEN: usize = 16;

/// An insertion-ordered map from string keys to values. Inserting an existing
/// key replaces its value in place (keeping its position).
#[derive(Clone, Default)]
pub struct Map {
    entries: Vec<(Str, Value)>,
    index: Option<Box<HashTable<u32>>>,
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

    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => {
                let entries = &self.entries;
                index
                    .find(hash_key(key), |&i| entries[i as usize].0 == key)
                    .map(|&i| i as usize)
            }
            None => self.entries.iter().position(|(k, _)| k == key),
        }
    }

    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// Mutable access to the value for `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.position(key).map(move |i| &mut self.entries[i].1)
    }

    /// `true` when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Inserts or replaces; returns the previous value of `key`.
    pub fn insert(&mut self, key: Str, value: Value) -> Option<Value> {
        if let Some(i) = self.position(&key) {
            return Some(std::mem::replace(&mut self.entries[i].1, value));
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
        let at = self.entries.len();
        if let Some(index) = &mut self.index {
            let entries = &self.entries;
            index.insert_unique(hash_key(&key), at as u32, |&i| {
                hash_key(&entries[i as usize].0)
            });
        }
        self.entries.push((key, value));
        if self.index.is_none() && self.entries.len() >= INDEX_FROM_LEN {
            self.rebuild_index();
        }
    }

    fn rebuild_index(&mut self) {
        let mut index = HashTable::with_capacity(self.entries.len());
        for (i, (k, _)) in self.entries.iter().enumerate() {
            let entries = &self.entries;
            index.insert_unique(hash_key(k), i as u32, |&j| hash_key(&entries[j as usize].0));
        }
        self.index = Some(Box::new(index));
    }

    /// Removes `key`, keeping the order of the others; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        let (_, value) = self.entries.remove(i);
        if self.index.is_some() {
            if self.entries.len() >= INDEX_FROM_LEN {
                self.rebuild_index();
            } else {
                self.index = None;
            }
        }
        Some(value)
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Str, &Value)> + DoubleEndedIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Keys in insertion order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Str> + DoubleEndedIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Values in insertion order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> + DoubleEndedIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The entry at `position` in insertion order.
    pub fn get_index(&self, position: usize) -> Option<(&Str, &Value)> {
        self.entries.get(position).map(|(k, v)| (k, v))
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

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = std::vec::IntoIter<(Str, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Str, Value)>,
        fn(&'a (Str, Value)) -> (&'a Str, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
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
