//! `Mask`: a set of backend ids as one `u64` bitmask, so selection never allocates.
//! A strategy therefore supports at most 64 backends (APIM allows 30 per pool).

use super::types::BackendId;

/// Most backends one strategy can hold.
pub const MAX_BACKENDS: usize = 64;

/// A set of backend ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mask(pub u64);

impl Mask {
    /// The empty set.
    pub const EMPTY: Mask = Mask(0);

    /// All ids `0..n`.
    pub fn all(n: usize) -> Mask {
        if n >= 64 {
            Mask(u64::MAX)
        } else {
            Mask((1u64 << n) - 1)
        }
    }

    /// Whether `id` is in the set.
    pub fn contains(self, id: BackendId) -> bool {
        id < 64 && self.0 & (1 << id) != 0
    }

    /// The set with `id` added.
    pub fn with(self, id: BackendId) -> Mask {
        Mask(self.0 | (1 << id))
    }

    /// The set with `id` removed.
    pub fn without(self, id: BackendId) -> Mask {
        Mask(self.0 & !(1 << id))
    }

    /// Intersection.
    pub fn and(self, other: Mask) -> Mask {
        Mask(self.0 & other.0)
    }

    /// Union.
    pub fn union_with(self, other: Mask) -> Mask {
        Mask(self.0 | other.0)
    }

    /// Members not in `other`.
    pub fn minus(self, other: Mask) -> Mask {
        Mask(self.0 & !other.0)
    }

    /// Number of members.
    pub fn count(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The lowest member.
    pub fn first(self) -> Option<BackendId> {
        (self.0 != 0).then(|| self.0.trailing_zeros() as usize)
    }

    /// The `k`-th member in increasing order (0-based).
    pub fn nth(self, k: usize) -> Option<BackendId> {
        let mut bits = self.0;
        for _ in 0..k {
            bits &= bits.wrapping_sub(1);
        }
        Mask(bits).first()
    }

    /// Members in increasing order.
    pub fn iter(self) -> impl Iterator<Item = BackendId> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            let id = Mask(bits).first()?;
            bits &= bits - 1;
            Some(id)
        })
    }
}

impl FromIterator<BackendId> for Mask {
    /// The set of the ids yielded.
    fn from_iter<I: IntoIterator<Item = BackendId>>(ids: I) -> Mask {
        ids.into_iter().fold(Mask::EMPTY, Mask::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_and_order() {
        let mask = Mask::EMPTY.with(1).with(4).with(63);
        assert_eq!(mask.iter().collect::<Vec<_>>(), vec![1, 4, 63]);
        assert_eq!(mask.nth(1), Some(4));
        assert_eq!(mask.nth(3), None);
        assert_eq!([63, 1, 4, 1].into_iter().collect::<Mask>(), mask);
        assert_eq!(mask.count(), 3);
        assert_eq!(Mask::all(64).count(), 64);
        assert_eq!(
            Mask::all(3).without(1).iter().collect::<Vec<_>>(),
            vec![0, 2]
        );
    }
}
