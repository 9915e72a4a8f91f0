//! The candidate fleets and their simulations. A *row* is one PTU size with one overflow kind
//! and PAYG deployment size, simulated with 0, 1, 2 … PAYG deployments until every strategy
//! meets the targets at the tested load. The first rows come from a grid: every type's
//! deployable sizes up to a ceiling, thinned to at most [`MAX_PTU_LEVELS`] per type. Then the
//! search refines: for each strategy's cheapest fleets with PTUs, it bisects the type's own
//! sizes between the grid size below and the one found — down to the increment — for the
//! smallest size that still meets the targets with no more PAYG. Rows are cached by key, so
//! every row is simulated once and the set simulated does not depend on thread timing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::error::PlanError;
use super::fleet::{FleetShape, Overflow};
use super::judge::Judge;
use super::sizing::PtuSizing;
use crate::parallel::parallel_map_all;
use crate::report::Summary;

/// Most PTU sizes per deployment type the grid tries (wider steps beyond that).
pub const MAX_PTU_LEVELS: u32 = 16;

/// What identifies a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowKey {
    /// PTUs (0: a PAYG-only row).
    pub ptu: u32,
    /// Where the overflow goes.
    pub overflow: Overflow,
    /// PAYG deployment size.
    pub payg_tpm: u64,
    /// Whether the row starts at 0 PAYG (the PTU-only fleet is tried once per size).
    pub from_zero: bool,
}

/// A row's fleets and how every strategy fared, in PAYG-count order.
pub type Row = Vec<(FleetShape, Summary)>;

/// Simulate a fleet at the tested load, every strategy.
pub type Simulate<'a> = dyn Fn(FleetShape) -> Result<Summary, PlanError> + Sync + 'a;

/// The rows simulated so far, shared by the threads of a search.
pub struct Rows<'a> {
    cache: Mutex<BTreeMap<RowKey, Arc<Row>>>,
    simulate: &'a Simulate<'a>,
    judge: Judge<'a>,
    factor: f64,
    max_payg: u32,
}

impl<'a> Rows<'a> {
    /// An empty cache over `simulate`, which runs fleets at load factor `factor`.
    pub fn new(
        simulate: &'a Simulate<'a>,
        judge: Judge<'a>,
        factor: f64,
        max_payg: u32,
    ) -> Rows<'a> {
        Rows {
            cache: Mutex::new(BTreeMap::new()),
            simulate,
            judge,
            factor,
            max_payg,
        }
    }

    /// Whether `strategy` meets the targets on `shape`, simulated as `summary`.
    pub fn meets(&self, shape: FleetShape, summary: &Summary, strategy: &str) -> bool {
        summary
            .strategies
            .iter()
            .find(|s| s.name == strategy)
            .is_some_and(|s| self.judge.meets(shape, self.factor, s))
    }

    /// The row of `key`, simulated if it was not.
    pub fn get(&self, key: RowKey) -> Result<Arc<Row>, PlanError> {
        if let Some(row) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(row);
        }
        let row = Arc::new(self.simulate_row(key)?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.entry(key).or_insert_with(|| row.clone());
        }
        Ok(row)
    }

    /// Simulate the rows of `keys` on `jobs` threads.
    pub fn fill(&self, keys: &[RowKey], jobs: usize) -> Result<(), PlanError> {
        parallel_map_all(keys, jobs, |key| self.get(*key).map(|_| ()))?
            .into_iter()
            .collect()
    }

    /// Every row simulated, in key order.
    pub fn all(&self) -> Vec<(RowKey, Arc<Row>)> {
        self.cache
            .lock()
            .map(|cache| cache.iter().map(|(k, v)| (*k, v.clone())).collect())
            .unwrap_or_default()
    }

    /// Fleets simulated.
    pub fn fleets_simulated(&self) -> usize {
        self.all().iter().map(|(_, row)| row.len()).sum()
    }

    /// The PTU sizes simulated (grid and refinement), ascending.
    pub fn ptu_sizes(&self) -> Vec<u32> {
        let mut sizes: Vec<u32> = self
            .all()
            .iter()
            .map(|(key, _)| key.ptu)
            .filter(|&ptu| ptu > 0)
            .collect();
        sizes.dedup();
        sizes
    }

    fn simulate_row(&self, key: RowKey) -> Result<Row, PlanError> {
        let first = u32::from(!(key.from_zero && key.ptu > 0));
        let mut row = Vec::new();
        for payg in first..=self.max_payg {
            let shape = FleetShape {
                ptu: key.ptu,
                payg,
                payg_tpm: key.payg_tpm,
                overflow: key.overflow,
            };
            let summary = (self.simulate)(shape)?;
            let all_met = summary
                .strategies
                .iter()
                .all(|s| self.judge.meets(shape, self.factor, s));
            row.push((shape, summary));
            if all_met {
                break;
            }
        }
        Ok(row)
    }

    /// Whether `strategy` meets the targets on the row of `key` with at most `payg` PAYG.
    pub fn row_meets(&self, key: RowKey, strategy: &str, payg: u32) -> Result<bool, PlanError> {
        let row = self.get(key)?;
        Ok(row
            .iter()
            .any(|(shape, summary)| shape.payg <= payg && self.meets(*shape, summary, strategy)))
    }
}

/// What the grid is built from.
pub struct GridSpec<'a> {
    /// The deployment types' sizes (empty: no PTU deployment to resize).
    pub sizings: &'a [PtuSizing],
    /// Largest PTU size tried.
    pub ceiling: u32,
    /// PAYG deployment sizes (empty: no PAYG template).
    pub payg_tpms: &'a [u64],
    /// Whether spillover rows are tried.
    pub spillover: bool,
}

/// The grid's PTU sizes: per type its deployable sizes up to the ceiling, at most
/// [`MAX_PTU_LEVELS`] of them, and the ceiling rounded up.
pub fn grid_sizes(sizings: &[PtuSizing], ceiling: u32) -> Vec<u32> {
    let mut sizes = Vec::new();
    for sizing in sizings {
        let Some(top) = sizing.index_at_most(ceiling) else {
            sizes.push(sizing.size(0));
            continue;
        };
        let stride = (top + 1).div_ceil(MAX_PTU_LEVELS).max(1);
        sizes.extend((0..=top).step_by(stride as usize).map(|i| sizing.size(i)));
        sizes.push(sizing.deployable(f64::from(ceiling)));
    }
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// The rows of the grid: every size with every PAYG size and overflow kind, and the PAYG-only
/// rows.
pub fn grid_keys(spec: &GridSpec<'_>) -> Vec<RowKey> {
    let tpms: Vec<u64> = if spec.payg_tpms.is_empty() {
        vec![0]
    } else {
        spec.payg_tpms.to_vec()
    };
    let mut keys = Vec::new();
    if !spec.payg_tpms.is_empty() {
        keys.extend(tpms.iter().map(|&payg_tpm| RowKey {
            ptu: 0,
            overflow: Overflow::Pool,
            payg_tpm,
            from_zero: false,
        }));
    }
    for ptu in grid_sizes(spec.sizings, spec.ceiling) {
        keys.extend(row_keys_for(ptu, &tpms, spec.spillover));
    }
    keys
}

/// The rows of one PTU size: each PAYG size in the pool (the PTU-only fleet in the first) and,
/// when allowed, spilling over.
pub fn row_keys_for(ptu: u32, tpms: &[u64], spillover: bool) -> Vec<RowKey> {
    let mut keys: Vec<RowKey> = tpms
        .iter()
        .enumerate()
        .map(|(index, &payg_tpm)| RowKey {
            ptu,
            overflow: Overflow::Pool,
            payg_tpm,
            from_zero: index == 0,
        })
        .collect();
    if spillover {
        keys.extend(tpms.iter().map(|&payg_tpm| RowKey {
            ptu,
            overflow: Overflow::Spillover,
            payg_tpm,
            from_zero: false,
        }));
    }
    keys
}

/// A fleet to refine below: a strategy met the targets with `shape` on `sizing`'s type.
#[derive(Debug, Clone)]
pub struct Anchor {
    /// The strategy.
    pub strategy: String,
    /// The type whose sizes are bisected.
    pub sizing: PtuSizing,
    /// The fleet found.
    pub shape: FleetShape,
    /// The row it came from.
    pub key: RowKey,
}

/// Bisect `anchor`'s type sizes between the largest simulated size below it and its own, for
/// the smallest that still meets the strategy's targets with no more PAYG deployments.
pub fn refine(rows: &Rows<'_>, anchor: &Anchor, simulated: &[u32]) -> Result<(), PlanError> {
    let sizing = &anchor.sizing;
    let Some(high) = sizing.index_at_most(anchor.shape.ptu) else {
        return Ok(());
    };
    let below = simulated
        .iter()
        .copied()
        .filter(|&size| size < anchor.shape.ptu && sizing.fits(size))
        .max();
    let mut low: i64 = below
        .and_then(|size| sizing.index_at_most(size))
        .map_or(-1, i64::from);
    let mut high = i64::from(high);
    while high - low > 1 {
        let middle = (low + high) / 2;
        let size = sizing.size(middle as u32);
        let key = RowKey {
            ptu: size,
            ..anchor.key
        };
        if rows.row_meets(key, &anchor.strategy, anchor.shape.payg)? {
            high = middle;
        } else {
            low = middle;
        }
    }
    Ok(())
}
