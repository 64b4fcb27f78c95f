//! A bounded, insertion-ordered map of the most recent provider message ids.

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// The last `capacity` keys with a value each; older keys are forgotten.
///
/// Serialized as an ordered list of `[key, value]` pairs: the index is rebuilt on load.
#[derive(Debug, Clone)]
pub(crate) struct Recent<V> {
    capacity: usize,
    order: VecDeque<String>,
    values: HashMap<String, V>,
}

impl<V> Recent<V> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
            order: VecDeque::new(),
            values: HashMap::new(),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.values.get(key)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.values.values()
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// Sets the key's value; a new key may push the oldest one out.
    pub(crate) fn insert(&mut self, key: String, value: V) {
        if let Some(v) = self.values.get_mut(&key) {
            *v = value;
            return;
        }
        self.order.push_back(key.clone());
        self.values.insert(key, value);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.values.remove(&old);
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Self::with_capacity(super::RECENT_IDS_KEPT)
    }
}

impl<V: Serialize> Serialize for Recent<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.order
                .iter()
                .filter_map(|k| self.values.get(k).map(|v| (k, v))),
        )
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Recent<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut recent = Self::default();
        for (k, v) in Vec::<(String, V)>::deserialize(deserializer)? {
            recent.insert(k, v);
        }
        Ok(recent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_key_is_forgotten_beyond_capacity() {
        let mut r = Recent::with_capacity(2);
        r.insert("a".into(), 1);
        r.insert("b".into(), 2);
        r.insert("a".into(), 3);
        r.insert("c".into(), 4);
        assert!(!r.contains("a"));
        assert_eq!((r.get("b"), r.get("c"), r.len()), (Some(&2), Some(&4), 2));
    }

    #[test]
    fn it_survives_a_snapshot_round_trip_in_order() {
        let mut r = Recent::with_capacity(5);
        r.insert("x".into(), true);
        r.insert("y".into(), false);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"[["x",true],["y",false]]"#);
        let back: Recent<bool> = serde_json::from_str(&json).unwrap();
        assert_eq!((back.get("x"), back.get("y")), (Some(&true), Some(&false)));
    }
}
