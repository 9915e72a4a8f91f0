//! Smooth WRR over a pool whose backends all weigh the same, as a queue. A pick adds the same
//! weight to every eligible backend, which keeps their order, so the adds wait, counted in
//! `picks`, as a share every member of the set owes. The eligible backends stay sorted by
//! (current value descending, id ascending): a pick takes the head, lowers its value by the
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
    /// Picks whose adds every member of `set` owes (`current` does not hold them).
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

    /// Moves the ring to the set `eligible`. Every member of a set owes the same deferred
    /// adds, `picks × weight`: a backend that leaves takes its share into `current`, one that
    /// joins enters owing it (its value less the adds), and those that stay keep their order.
    /// So a change costs the backends that come and go, not a sort of the set.
    #[inline(never)]
    fn reset(&mut self, current: &mut [i64; MAX_BACKENDS], eligible: Mask) {
        let owed = self.picks * self.weight;
        let (ring, head, old_len) = (*self.order, self.head, self.len);
        let mut len = 0;
        for k in 0..old_len {
            let id = usize::from(ring[(head + k) % old_len % MAX_BACKENDS]) % MAX_BACKENDS;
            if eligible.contains(id) {
                self.order[len % MAX_BACKENDS] = id as u8;
                len += 1;
            } else {
                current[id] += owed;
            }
        }
        // Joiners arrive in increasing id order: each goes after every member that precedes
        // it (by value, ties by id).
        for id in eligible.minus(self.set).iter() {
            current[id % MAX_BACKENDS] -= owed;
            let mut place = len;
            while place > 0 && !precedes(current, usize::from(self.order[place - 1]), id) {
                self.order[place] = self.order[place - 1];
                place -= 1;
            }
            self.order[place] = id as u8;
            len += 1;
        }
        self.set = eligible;
        self.len = len;
        self.total = self.weight * len as i64;
        self.head = 0;
    }

    /// Adds the deferred adds to `current` (the values smooth WRR defines; tests compare them).
    #[cfg(test)]
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
