//! Smooth WRR over a pool whose backends all weigh the same, as a queue. A pick adds the same
//! weight to every eligible backend, which keeps their order, so the adds wait (counted in
//! `picks`) until the eligible set changes. Between changes the eligible backends stay sorted
//! by (current value descending, id ascending): a pick takes the head, lowers its value by the
//! set's total weight and puts it back in place — nearly always at the end, a rotation of the
//! ring. A pick thus costs a few instructions instead of a scan of the eligible set.

use crate::balance::mask::{MAX_BACKENDS, Mask};
use crate::balance::types::BackendId;

/// The deferred adds and the sorted ring of one eligible set.
#[derive(Debug, Clone)]
pub struct EqualWeights {
    /// The weight a pick adds to each eligible backend.
    weight: i64,
    /// The eligible set the ring holds (empty before the first pick).
    set: Mask,
    /// Picks made from `set` whose adds `current` does not hold yet.
    picks: i64,
    /// `weight × |set|`: what a pick takes off the chosen backend.
    total: i64,
    /// The members of `set`, from `head` around the first `len` slots, in pick order.
    order: Box<[u8; MAX_BACKENDS]>,
    len: usize,
    head: usize,
}

impl EqualWeights {
    /// A queue for backends that all weigh `weight`.
    pub fn new(weight: i64) -> Self {
        Self {
            weight,
            set: Mask::EMPTY,
            picks: 0,
            total: 0,
            order: Box::new([0; MAX_BACKENDS]),
            len: 0,
            head: 0,
        }
    }

    /// One smooth-WRR pick over `eligible`, `current` holding every value but the deferred
    /// adds.
    #[inline]
    pub fn pick(&mut self, current: &mut [i64; MAX_BACKENDS], eligible: Mask) -> Option<BackendId> {
        // An empty set picks nothing and adds nothing: the deferred adds stay as they are.
        if eligible.is_empty() {
            return None;
        }
        if eligible != self.set {
            self.reset(current, eligible);
        }
        let (head, len) = (self.head, self.len);
        let chosen = usize::from(self.order[head % MAX_BACKENDS]) % MAX_BACKENDS;
        current[chosen] -= self.total;
        self.picks += 1;
        // The rest stays sorted; `chosen` belongs last unless the last one does not come
        // before it (then `reinsert` finds its place; in a set of one, the last is itself).
        let last_slot = if head == 0 { len - 1 } else { head - 1 };
        let last = usize::from(self.order[last_slot % MAX_BACKENDS]) % MAX_BACKENDS;
        if !precedes(current, last, chosen) {
            self.reinsert(current, chosen);
        }
        self.head = if head + 1 == len { 0 } else { head + 1 };
        Some(chosen)
    }

    /// Puts `chosen` (just taken from the head) back where its new value sorts it among the
    /// others: they move up one slot each until one comes before it.
    #[inline(never)]
    fn reinsert(&mut self, current: &[i64; MAX_BACKENDS], chosen: BackendId) {
        let (head, len) = (self.head, self.len);
        // The others in order are slots `head + 1 ..`; the free slot, `head`, is the last.
        let slot = |k: usize| (head + 1 + k) % len % MAX_BACKENDS;
        let mut place = len - 1;
        while place > 0 {
            let before = self.order[slot(place - 1)];
            if precedes(current, usize::from(before), chosen) {
                break;
            }
            self.order[slot(place)] = before;
            place -= 1;
        }
        self.order[slot(place)] = chosen as u8;
    }

    /// Settles the adds of the old set and sorts the new one.
    #[inline(never)]
    fn reset(&mut self, current: &mut [i64; MAX_BACKENDS], eligible: Mask) {
        self.settle(current);
        self.set = eligible;
        self.len = eligible.count();
        self.total = self.weight * self.len as i64;
        self.head = 0;
        // Ids arrive in increasing order: inserting each after every member that precedes
        // it sorts by value, ties by id.
        for (filled, id) in eligible.iter().enumerate() {
            let mut place = filled;
            while place > 0 && !precedes(current, usize::from(self.order[place - 1]), id) {
                self.order[place] = self.order[place - 1];
                place -= 1;
            }
            self.order[place] = id as u8;
        }
    }

    /// Adds the deferred adds to `current`.
    pub fn settle(&mut self, current: &mut [i64; MAX_BACKENDS]) {
        let owed = self.picks * self.weight;
        for id in self.set.iter() {
            current[id % MAX_BACKENDS] += owed;
        }
        self.picks = 0;
    }
}

/// Whether `a` comes before `b` in pick order: a larger value, or the same and a smaller id.
#[inline(always)]
fn precedes(current: &[i64; MAX_BACKENDS], a: BackendId, b: BackendId) -> bool {
    let (x, y) = (current[a % MAX_BACKENDS], current[b % MAX_BACKENDS]);
    x > y || (x == y && a < b)
}
