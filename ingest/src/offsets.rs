//! Per-partition offset tracking: events are done out of order, offsets are
//! committed in order.
//!
//! Every event taken from a partition is registered with [`OffsetTracker::push`]
//! (in offset order, as Kafka delivers them) and marked done with
//! [`OffsetTracker::mark_done`] once its outcome (output or dead-letter record)
//! is acknowledged by the producer. [`OffsetTracker::commit_position`] is then
//! the offset to commit: Kafka stores the *next* offset to read, so after
//! offsets 0..=41 are done the position is 42, never 41. An offset that is
//! not done holds the position back however many later ones are done, so a
//! crash never loses an event whose outcome was not yet safe; it only repeats
//! the done ones after it.
//!
//! Offsets need not be contiguous (compacted topics and transaction markers
//! leave gaps): the position is one past the highest done offset below which
//! every registered offset is done.

use std::collections::VecDeque;

/// In-order offset bookkeeping for one partition.
#[derive(Debug, Default, Clone)]
pub struct OffsetTracker {
    /// Registered offsets not yet released, ascending, with their done flag.
    /// The front is never done (done fronts are released at once).
    pending: VecDeque<(i64, bool)>,
    /// Done entries inside `pending`.
    done_inside: usize,
    /// The next offset to read once everything released so far is committed.
    position: Option<i64>,
    /// The highest offset registered.
    last: Option<i64>,
}

/// Why an offset could not be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("offset {offset} is not above the last registered offset {last}")]
pub struct OutOfOrder {
    /// The offending offset.
    pub offset: i64,
    /// The highest offset registered before it.
    pub last: i64,
}

impl OffsetTracker {
    /// An empty tracker.
    pub fn new() -> OffsetTracker {
        OffsetTracker::default()
    }

    /// Registers the next event's offset. Offsets must increase; a repeated
    /// or older offset is refused (the caller drops that duplicate).
    pub fn push(&mut self, offset: i64) -> Result<(), OutOfOrder> {
        if let Some(last) = self.last
            && offset <= last
        {
            return Err(OutOfOrder { offset, last });
        }
        self.last = Some(offset);
        self.pending.push_back((offset, false));
        Ok(())
    }

    /// Marks `offset` done. Returns `false` if it is not pending (never
    /// registered, or already done).
    pub fn mark_done(&mut self, offset: i64) -> bool {
        let Ok(index) = self.pending.binary_search_by_key(&offset, |&(o, _)| o) else {
            return false;
        };
        let entry = &mut self.pending[index].1;
        if *entry {
            return false;
        }
        *entry = true;
        self.done_inside += 1;
        while let Some(&(front, true)) = self.pending.front() {
            self.pending.pop_front();
            self.done_inside -= 1;
            self.position = Some(front + 1);
        }
        debug_assert!(self.pending.front().is_none_or(|&(_, done)| !done));
        true
    }

    /// The offset to commit (the next one to read), or `None` while no
    /// event of this partition has been released.
    pub fn commit_position(&self) -> Option<i64> {
        self.position
    }

    /// Events registered and not yet released (done ones waiting behind an
    /// earlier one not done included).
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// `true` when every registered event is released.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Events registered and not yet done.
    pub fn not_done(&self) -> usize {
        self.pending.len() - self.done_inside
    }

    /// The highest offset registered.
    pub fn last(&self) -> Option<i64> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::seq::SliceRandom;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn commits_the_next_offset_to_read() {
        let mut t = OffsetTracker::new();
        t.push(41).unwrap();
        assert_eq!(t.commit_position(), None);
        assert!(t.mark_done(41));
        assert_eq!(t.commit_position(), Some(42));
        assert!(t.is_empty());
    }

    #[test]
    fn a_gap_holds_the_position_back() {
        let mut t = OffsetTracker::new();
        for o in 0..5 {
            t.push(o).unwrap();
        }
        assert!(t.mark_done(1));
        assert!(t.mark_done(2));
        assert!(t.mark_done(4));
        assert_eq!(t.commit_position(), None);
        assert_eq!(t.not_done(), 2);
        assert!(t.mark_done(0));
        assert_eq!(t.commit_position(), Some(3));
        assert!(t.mark_done(3));
        assert_eq!(t.commit_position(), Some(5));
    }

    #[test]
    fn offsets_with_holes_and_refusals() {
        let mut t = OffsetTracker::new();
        t.push(10).unwrap();
        t.push(13).unwrap();
        assert_eq!(
            t.push(13),
            Err(OutOfOrder {
                offset: 13,
                last: 13
            })
        );
        assert_eq!(
            t.push(2),
            Err(OutOfOrder {
                offset: 2,
                last: 13
            })
        );
        assert!(!t.mark_done(11), "never registered");
        assert!(t.mark_done(13));
        assert!(!t.mark_done(13), "already done");
        assert!(t.mark_done(10));
        assert_eq!(t.commit_position(), Some(14));
        assert!(!t.mark_done(10), "released");
    }

    /// The property, checked against a model: after offsets are done
    /// in any order, the position is one past the longest done prefix, so it
    /// never passes an offset not done, and it only moves forward.
    fn check(offsets: &[i64], order: &[usize]) {
        let mut t = OffsetTracker::new();
        for &o in offsets {
            t.push(o).unwrap();
        }
        let mut done = vec![false; offsets.len()];
        let mut previous = None;
        for &i in order {
            assert!(t.mark_done(offsets[i]));
            done[i] = true;
            let prefix = done.iter().take_while(|d| **d).count();
            let expected = (prefix > 0).then(|| offsets[prefix - 1] + 1);
            assert_eq!(
                t.commit_position(),
                expected,
                "offsets {offsets:?} order {order:?}"
            );
            if let Some(p) = t.commit_position() {
                // Never past an offset not done.
                for (j, &o) in offsets.iter().enumerate() {
                    assert!(done[j] || o >= p, "committed {p} past {o}, not done");
                }
            }
            assert!(t.commit_position() >= previous);
            previous = t.commit_position();
            assert_eq!(t.not_done(), done.iter().filter(|d| !**d).count());
        }
        assert!(t.is_empty());
        assert_eq!(t.commit_position(), offsets.last().map(|o| o + 1));
    }

    fn permutations(n: usize, f: &mut impl FnMut(&[usize])) {
        fn go(prefix: &mut Vec<usize>, used: &mut [bool], f: &mut impl FnMut(&[usize])) {
            if prefix.len() == used.len() {
                f(prefix);
                return;
            }
            for i in 0..used.len() {
                if !used[i] {
                    used[i] = true;
                    prefix.push(i);
                    go(prefix, used, f);
                    prefix.pop();
                    used[i] = false;
                }
            }
        }
        go(&mut Vec::new(), &mut vec![false; n], f);
    }

    #[test]
    fn every_done_order_of_small_partitions() {
        // Exhaustive: every order in which up to 7 offsets are done, contiguous offsets
        // and offsets with holes.
        for n in 1..=7 {
            let contiguous: Vec<i64> = (100..100 + n as i64).collect();
            let holes: Vec<i64> = (0..n as i64).map(|i| i * i + 3 * i).collect();
            permutations(n, &mut |order| {
                check(&contiguous, order);
                check(&holes, order);
            });
        }
    }

    #[test]
    fn random_done_orders_with_interleaved_pushes() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(42);
        for _ in 0..300 {
            let n = rng.random_range(1..400);
            let mut offsets = Vec::with_capacity(n);
            let mut next = rng.random_range(0..1_000_000i64);
            for _ in 0..n {
                offsets.push(next);
                next += rng.random_range(1..4);
            }
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            check(&offsets, &order);

            // Offsets done interleaved with registrations: an event completes
            // only after it was registered.
            let mut t = OffsetTracker::new();
            let mut registered = 0;
            let mut open: Vec<usize> = Vec::new();
            let mut done = vec![false; n];
            while registered < n || !open.is_empty() {
                if registered < n && (open.is_empty() || rng.random_bool(0.5)) {
                    t.push(offsets[registered]).unwrap();
                    open.push(registered);
                    registered += 1;
                } else {
                    let i = open.swap_remove(rng.random_range(0..open.len()));
                    assert!(t.mark_done(offsets[i]));
                    done[i] = true;
                }
                if let Some(p) = t.commit_position() {
                    for j in 0..registered {
                        assert!(done[j] || offsets[j] >= p);
                    }
                }
            }
            assert_eq!(t.commit_position(), Some(offsets[n - 1] + 1));
        }
    }
}
