//! A hierarchical timer wheel with millisecond resolution, owned by one shard.
//!
//! Six levels of 64 slots: level `l` slots are `64^l` ms wide, so level 0
//! covers the next 64 ms one millisecond at a time, level 1 the next ~4 s,
//! level 2 ~4.4 min, level 3 ~4.7 h, level 4 ~12 days and level 5 ~2 years.
//! A deadline further than that is clamped to the wheel's span (the runtime
//! caps executions at minutes, so no real timer gets near it).
//! Inserting is O(1); advancing costs O(1) per expired or cascaded entry,
//! using a bitmask per level to jump straight to the next occupied slot.
//! Entries are never removed: cancelled timers are dropped by their owner when
//! they fire (the shard checks a generation number), which keeps the wheel
//! free of back-pointers.

/// Slots per level.
const SLOTS: usize = 64;
/// Bits of a deadline each level consumes.
const BITS: u32 = 6;
/// Number of levels.
const LEVELS: usize = 6;
/// The furthest ahead a deadline can be (about 2.2 years).
const MAX_SPAN: u64 = (1 << (BITS * LEVELS as u32)) - 1;

struct Level<T> {
    slots: Vec<Vec<(u64, T)>>,
    occupied: u64,
}

/// Timers keyed by a deadline in milliseconds.
pub struct TimerWheel<T> {
    levels: Vec<Level<T>>,
    /// Entries due at or before `now`, waiting for the next `advance`.
    due: Vec<(u64, T)>,
    now: u64,
    len: usize,
}

impl<T> TimerWheel<T> {
    /// An empty wheel whose clock reads `now_ms`.
    pub fn new(now_ms: u64) -> TimerWheel<T> {
        TimerWheel {
            levels: (0..LEVELS)
                .map(|_| Level {
                    slots: (0..SLOTS).map(|_| Vec::new()).collect(),
                    occupied: 0,
                })
                .collect(),
            due: Vec::new(),
            now: now_ms,
            len: 0,
        }
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The wheel's clock.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Adds a timer. A deadline in the past fires on the next [`advance`](Self::advance).
    pub fn insert(&mut self, deadline_ms: u64, item: T) {
        self.len += 1;
        self.place(deadline_ms.min(self.now.saturating_add(MAX_SPAN)), item);
    }

    fn place(&mut self, deadline: u64, item: T) {
        if deadline <= self.now {
            self.due.push((deadline, item));
            return;
        }
        let differing = (deadline ^ self.now) | (SLOTS as u64 - 1);
        let level = ((63 - differing.leading_zeros()) / BITS) as usize;
        debug_assert!(level < LEVELS, "deadline beyond the wheel's span");
        let slot = ((deadline >> (BITS * level as u32)) as usize) & (SLOTS - 1);
        let level = &mut self.levels[level];
        level.slots[slot].push((deadline, item));
        level.occupied |= 1 << slot;
    }

    /// The start time of the earliest occupied slot, with its level and index.
    fn next_slot(&self) -> Option<(u64, usize, usize)> {
        let mut best: Option<(u64, usize, usize)> = None;
        for (l, level) in self.levels.iter().enumerate() {
            if level.occupied == 0 {
                continue;
            }
            let shift = BITS * l as u32;
            let current = ((self.now >> shift) as usize) & (SLOTS - 1);
            // Entries of a level lie ahead of the clock within the level's
            // current rotation, so the next one is the first set bit at or
            // after the clock's slot.
            let ahead = level.occupied & (u64::MAX << current);
            debug_assert!(ahead != 0, "an occupied slot behind the clock at level {l}");
            let slot = ahead.trailing_zeros() as usize;
            let span_bits = shift + BITS;
            let start = ((self.now >> span_bits) << span_bits) + ((slot as u64) << shift);
            let start = start.max(self.now);
            if best.is_none_or(|(t, ..)| start < t) {
                best = Some((start, l, slot));
            }
        }
        best
    }

    /// The earliest instant at which [`advance`](Self::advance) may fire
    /// something (a lower bound on the earliest deadline), or `None` when empty.
    pub fn next_deadline(&self) -> Option<u64> {
        if !self.due.is_empty() {
            return Some(self.now);
        }
        self.next_slot().map(|(t, ..)| t)
    }

    /// Removes every pending timer, appending `(deadline, item)` pairs to `out`.
    pub fn drain_into(&mut self, out: &mut Vec<(u64, T)>) {
        out.append(&mut self.due);
        for level in &mut self.levels {
            for slot in &mut level.slots {
                out.append(slot);
            }
            level.occupied = 0;
        }
        self.len = 0;
    }

    /// Moves the clock to `to_ms` (never backwards) and appends every timer
    /// due by then to `fired`, earliest first within each slot.
    pub fn advance(&mut self, to_ms: u64, fired: &mut Vec<T>) {
        let to = to_ms.max(self.now);
        loop {
            for (deadline, item) in self.due.drain(..) {
                debug_assert!(deadline <= to);
                fired.push(item);
                self.len -= 1;
            }
            let Some((start, l, slot)) = self.next_slot() else {
                break;
            };
            if start > to {
                break;
            }
            self.now = start;
            let level = &mut self.levels[l];
            level.occupied &= !(1 << slot);
            let entries = std::mem::take(&mut level.slots[slot]);
            for (deadline, item) in entries {
                if deadline <= to && (l == 0 || deadline <= self.now) {
                    fired.push(item);
                    self.len -= 1;
                } else {
                    self.place(deadline, item);
                }
            }
        }
        self.now = to;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use std::collections::BTreeMap;

    #[test]
    fn fires_in_order_across_levels() {
        let mut wheel = TimerWheel::new(1_000);
        for d in [1_001, 1_070, 5_000, 300_000, 20_000_000, 999, 1_000] {
            wheel.insert(d, d);
        }
        assert_eq!(wheel.len(), 7);
        let mut fired = Vec::new();
        wheel.advance(1_000, &mut fired);
        assert_eq!(fired, [999, 1_000]);
        fired.clear();
        wheel.advance(1_069, &mut fired);
        assert_eq!(fired, [1_001]);
        fired.clear();
        wheel.advance(10_000, &mut fired);
        assert_eq!(fired, [1_070, 5_000]);
        fired.clear();
        wheel.advance(100_000_000, &mut fired);
        assert_eq!(fired, [300_000, 20_000_000]);
        assert!(wheel.is_empty());
        assert_eq!(wheel.next_deadline(), None);
    }

    #[test]
    fn clamps_deadlines_beyond_its_span() {
        let mut wheel = TimerWheel::new(0);
        wheel.insert(u64::MAX, "far");
        let mut fired = Vec::new();
        wheel.advance(MAX_SPAN - 1, &mut fired);
        assert!(fired.is_empty());
        wheel.advance(MAX_SPAN, &mut fired);
        assert_eq!(fired, ["far"]);
    }

    #[test]
    fn matches_a_sorted_oracle() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut wheel = TimerWheel::new(0);
        let mut oracle: BTreeMap<(u64, u64), ()> = BTreeMap::new();
        let mut id = 0u64;
        let mut now = 0u64;
        for _ in 0..5_000 {
            for _ in 0..rng.random_range(0..5) {
                let span = [10u64, 100, 5_000, 400_000, 40_000_000][rng.random_range(0..5)];
                let deadline = now + rng.random_range(0..span);
                wheel.insert(deadline, (deadline, id));
                oracle.insert((deadline, id), ());
                id += 1;
            }
            now += [1u64, 7, 64, 1_000, 70_000][rng.random_range(0..5)];
            if let Some(next) = wheel.next_deadline() {
                let earliest = oracle.keys().next().map(|k| k.0).unwrap();
                assert!(
                    next <= earliest.max(wheel.now()),
                    "next_deadline {next} after the earliest timer {earliest}"
                );
            }
            let mut fired = Vec::new();
            wheel.advance(now, &mut fired);
            let mut expected: Vec<(u64, u64)> =
                oracle.range(..(now + 1, 0)).map(|(k, _)| *k).collect();
            for k in &expected {
                oracle.remove(k);
            }
            fired.sort();
            expected.sort();
            assert_eq!(fired, expected, "at {now}");
            assert_eq!(wheel.len(), oracle.len());
        }
    }
}
