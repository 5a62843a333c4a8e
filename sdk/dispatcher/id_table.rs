//! A map from the host's `u32` ids (context ids, call tokens) to values: open addressing with linear
//! probing and Fibonacci hashing (ids are small integers the host picks, not adversarial keys). Removal
//! shifts the entries after the hole back, so there are no tombstones and lookups stay short.

/// The smallest table allocated (a power of two): a plugin holds a few contexts at a time, and at
/// that load an id rarely probes past its home slot (256 bytes for the context table).
const MIN_CAPACITY: usize = 32;

/// An id -> value map; capacity a power of two, at most half full.
pub(super) struct IdTable<V> {
    entries: Vec<Option<(u32, V)>>,
    len: usize,
    /// `32 - log2(capacity)`: the hash keeps the top bits of the product.
    shift: u32,
}

impl<V> IdTable<V> {
    /// An empty table; allocates on the first insertion.
    pub(super) const fn new() -> Self {
        IdTable {
            entries: Vec::new(),
            len: 0,
            shift: 32,
        }
    }

    /// How many ids the table holds.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether the table holds no id.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where `id` probes first (the table is allocated).
    #[inline(always)]
    fn home(&self, id: u32) -> usize {
        (id.wrapping_mul(0x9e37_79b9) >> self.shift) as usize
    }

    fn mask(&self) -> usize {
        self.entries.len() - 1
    }

    #[inline(always)]
    fn position(&self, id: u32) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut i = self.home(id);
        // Ends: the table is never full.
        loop {
            match self.entries.get(i)? {
                None => return None,
                Some((key, _)) if *key == id => return Some(i),
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// The value of `id`.
    #[inline(always)]
    pub(super) fn get(&self, id: u32) -> Option<&V> {
        let i = self.position(id)?;
        self.entries.get(i)?.as_ref().map(|(_, v)| v)
    }

    /// The value of `id`, to change.
    pub(super) fn get_mut(&mut self, id: u32) -> Option<&mut V> {
        let i = self.position(id)?;
        self.entries.get_mut(i)?.as_mut().map(|(_, v)| v)
    }

    /// Sets the value of `id`; hands back the value it replaces.
    pub(super) fn insert(&mut self, id: u32, value: V) -> Option<V> {
        if let Some(entry) = self.position(id).and_then(|i| self.entries.get_mut(i)) {
            return entry.replace((id, value)).map(|(_, old)| old);
        }
        self.insert_new(id, value);
        None
    }

    /// Adds `id`, which the table does not hold (the caller checked).
    pub(super) fn insert_new(&mut self, id: u32, value: V) {
        if (self.len + 1) * 2 > self.entries.len() {
            self.grow();
        }
        let mask = self.mask();
        let mut i = self.home(id);
        // Ends: the table is never full.
        while let Some(entry) = self.entries.get_mut(i) {
            if entry.is_none() {
                // What is replaced is the `None` just seen: written so that no drop code runs for it.
                if let Some(_vacant) = entry.replace((id, value)) {}
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let capacity = (self.entries.len() * 2).max(MIN_CAPACITY);
        let empty = std::iter::repeat_with(|| None).take(capacity).collect();
        let old = std::mem::replace(&mut self.entries, empty);
        self.shift = 32 - capacity.trailing_zeros();
        self.len = 0;
        for (id, value) in old.into_iter().flatten() {
            self.insert_new(id, value);
        }
    }

    /// Removes `id`; hands back its value.
    pub(super) fn remove(&mut self, id: u32) -> Option<V> {
        let mut hole = self.position(id)?;
        let removed = self.entries.get_mut(hole)?.take();
        self.len -= 1;
        let mask = self.mask();
        let mut next = hole;
        loop {
            next = (next + 1) & mask;
            let Some(Some((key, _))) = self.entries.get(next) else {
                break;
            };
            let home = self.home(*key);
            // The entry may fill the hole when the hole lies on its probe path (between its home and
            // where it sits, cyclically).
            if next.wrapping_sub(home) & mask >= next.wrapping_sub(hole) & mask {
                self.entries.swap(hole, next);
                hole = next;
            }
        }
        removed.map(|(_, value)| value)
    }

    /// Removes one entry whose value matches `doomed`, if any; hands back its value.
    pub(super) fn remove_one_where(&mut self, doomed: impl Fn(&V) -> bool) -> Option<V> {
        if self.len == 0 {
            return None;
        }
        let id = self.entries.iter().find_map(|entry| match entry {
            Some((id, value)) if doomed(value) => Some(*id),
            _ => None,
        })?;
        self.remove(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn agrees_with_a_btree_map_through_inserts_and_removals() {
        let mut table = IdTable::new();
        let mut model = BTreeMap::new();
        // A deterministic sequence with many collisions (small id range) and some large ids.
        let mut state = 12345u32;
        for step in 0..20_000u32 {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let id = if step % 7 == 0 {
                state
            } else {
                (state >> 16) % 97
            };
            if step % 997 == 0 {
                let mut removed = Vec::new();
                while let Some(v) = table.remove_one_where(|v| v % 5 == 0) {
                    removed.push(v);
                }
                removed.sort_unstable();
                let mut expected: Vec<u32> =
                    model.values().copied().filter(|v| v % 5 == 0).collect();
                expected.sort_unstable();
                model.retain(|_, v| *v % 5 != 0);
                assert_eq!(removed, expected, "remove_one_where at step {step}");
            } else if (state >> 8) % 3 == 0 {
                assert_eq!(table.remove(id), model.remove(&id), "remove {id}");
            } else {
                assert_eq!(
                    table.insert(id, step),
                    model.insert(id, step),
                    "insert {id}"
                );
            }
            assert_eq!(table.len(), model.len());
            if step % 101 == 0 {
                for probe in 0..100 {
                    assert_eq!(table.get(probe), model.get(&probe), "get {probe}");
                }
                for (id, value) in &model {
                    assert_eq!(table.get(*id), Some(value));
                }
            }
        }
    }

    #[test]
    fn an_empty_table_finds_nothing_and_remove_one_where_hands_back_what_matches() {
        let mut table: IdTable<u32> = IdTable::new();
        assert_eq!(table.get(0), None);
        assert_eq!(table.remove(0), None);
        assert!(table.is_empty());
        for id in 0..40 {
            table.insert(id, id % 2);
        }
        let mut removed = Vec::new();
        while let Some(v) = table.remove_one_where(|v| *v == 1) {
            removed.push(v);
        }
        assert_eq!(removed, vec![1; 20]);
        assert_eq!(table.len(), 20);
        assert!((0..40).all(|id| table.get(id).is_some() == (id % 2 == 0)));
        assert_eq!(table.get(u32::MAX), None);
    }
}
