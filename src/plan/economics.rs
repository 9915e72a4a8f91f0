//! PTU against pay-as-you-go as the load changes, by the documented formula: a PTU fleet sized
//! for a load (busiest minute, cache hit rate, output weight, headroom, rounded to the type's
//! increment) costs its PTUs whatever the traffic; PAYG costs every call's tokens. From them:
//! the break-even load per deployment type and pricing mode (above it PTU is never dearer), and
//! the monthly-cost-against-load curves the plan charts — PAYG, PTU per pricing mode, and a
//! hybrid whose PTU base is sized for the mean rate (below the peak) with PAYG taking what the
//! base cannot.

use serde::Serialize;

use super::calculator::LoadProfile;
use super::prices::{HOURS_PER_MONTH, PriceBook, PricingMode, PtuRate};
use super::sizing::{PtuDeploymentType, PtuSizing};

/// Loads the cost curves are drawn at.
const CURVE_POINTS: usize = 120;
/// Size steps the break-even search walks before it settles for the asymptote.
const MAX_STEPS: u32 = 1_000_000;

/// The per-load figures the curves and break-even use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UnitEconomics {
    /// Pay-as-you-go cost per month of 1 req/s.
    pub payg_per_rps_month: f64,
    /// Raw PTUs 1 req/s needs by the documented formula (busiest minute, headroom).
    pub ptu_per_rps: f64,
    /// Raw PTUs 1 req/s needs at the mean rate without headroom (the hybrid base's sizing).
    pub ptu_per_rps_mean: f64,
}

impl UnitEconomics {
    /// For `load`'s call shape on `sizing`, with `cache_hit_rate` and `headroom`.
    pub fn new(
        load: &LoadProfile,
        sizing: &PtuSizing,
        cache_hit_rate: f64,
        headroom: f64,
        book: &PriceBook,
    ) -> UnitEconomics {
        let raw = |calls_per_min: f64| {
            load.calculate(calls_per_min, cache_hit_rate, sizing)
                .ptu_raw
        };
        UnitEconomics {
            payg_per_rps_month: book
                .payg_per_call(load.mean_prompt_tokens, load.mean_output_tokens)
                * 3600.0
                * HOURS_PER_MONTH,
            ptu_per_rps: raw(60.0 * load.peak_factor() * (1.0 + headroom)),
            ptu_per_rps_mean: raw(60.0),
        }
    }

    /// PTUs a PTU-only fleet needs at `rps`.
    pub fn ptu_needed(&self, rps: f64, sizing: &PtuSizing) -> u32 {
        sizing.deployable(self.ptu_per_rps * rps)
    }
}

/// The load above which a formula-sized PTU fleet costs no more than PAYG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakEven {
    /// The deployment type.
    pub deployment_type: PtuDeploymentType,
    /// The pricing mode.
    pub mode: PricingMode,
    /// Requests per second (None: PTU never gets cheaper at these prices).
    pub load_rps: Option<f64>,
}

/// The break-even load of PTUs priced `per_ptu_month` on `sizing` against PAYG.
pub fn break_even(units: &UnitEconomics, sizing: &PtuSizing, per_ptu_month: f64) -> Option<f64> {
    let (a, b, p) = (units.payg_per_rps_month, units.ptu_per_rps, per_ptu_month);
    if !(a > 0.0 && b > 0.0) || p * b >= a {
        return None;
    }
    // Size step k serves loads up to s_k / b at a flat p·s_k; PAYG costs a·L. Within step k
    // PTU is dearer below p·s_k / a. The break-even is the last such crossing.
    let mut previous_top = 0.0;
    let mut answer: f64 = 0.0;
    for index in 0..MAX_STEPS {
        let size = f64::from(sizing.size(index));
        let top = size / b;
        let crossing = p * size / a;
        if crossing <= previous_top {
            return Some(answer);
        }
        answer = answer.max(crossing.min(top));
        previous_top = top;
    }
    Some(answer)
}

/// Break-even loads for every priced type and mode of `sizings`.
pub fn break_evens(
    load: &LoadProfile,
    sizings: &[PtuSizing],
    cache_hit_rate: f64,
    headroom: f64,
    book: &PriceBook,
) -> Vec<BreakEven> {
    sizings
        .iter()
        .flat_map(|sizing| {
            let units = UnitEconomics::new(load, sizing, cache_hit_rate, headroom, book);
            book.rates(sizing.kind).map(move |rate| BreakEven {
                deployment_type: sizing.kind,
                mode: rate.mode,
                load_rps: break_even(&units, sizing, rate.per_ptu_month),
            })
        })
        .collect()
}

/// One line of the cost chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostSeries {
    /// `PAYG`, `PTU hourly`, `hybrid: 50 PTU (1-year reservation) + PAYG`.
    pub label: String,
    /// Monthly cost at each of the curve's loads.
    pub per_month: Vec<f64>,
}

/// Monthly cost against load for one deployment type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostCurve {
    /// The deployment type the PTU lines are priced and rounded for.
    pub deployment_type: PtuDeploymentType,
    /// Loads (req/s).
    pub loads_rps: Vec<f64>,
    /// The lines.
    pub series: Vec<CostSeries>,
    /// PTUs of the hybrid's base (sized for the planned mean rate, below its peak).
    pub hybrid_base_ptu: u32,
}

/// The cost curves on `sizing` from 0 to `max_rps`; the hybrid's base is sized for
/// `planned_rps` at the mean rate and paid in the cheapest priced mode.
pub fn cost_curve(
    units: &UnitEconomics,
    sizing: &PtuSizing,
    book: &PriceBook,
    planned_rps: f64,
    max_rps: f64,
) -> CostCurve {
    let loads: Vec<f64> = (0..=CURVE_POINTS)
        .map(|index| max_rps * index as f64 / CURVE_POINTS as f64)
        .collect();
    let line = |label: String, cost: &dyn Fn(f64) -> f64| CostSeries {
        label,
        per_month: loads.iter().map(|&rps| cost(rps)).collect(),
    };
    let payg = |rps: f64| units.payg_per_rps_month * rps;
    let mut series = vec![line("PAYG".to_string(), &payg)];
    for rate in book.rates(sizing.kind) {
        let ptu = |rps: f64| {
            if rps > 0.0 {
                f64::from(units.ptu_needed(rps, sizing)) * rate.per_ptu_month
            } else {
                0.0
            }
        };
        series.push(line(format!("PTU {}", rate.mode.label()), &ptu));
    }
    let base = sizing.deployable(units.ptu_per_rps_mean * planned_rps);
    let cheapest = book
        .rates(sizing.kind)
        .min_by(|a, b| a.per_ptu_month.total_cmp(&b.per_ptu_month));
    if let Some(PtuRate {
        per_ptu_month,
        mode,
        ..
    }) = cheapest
    {
        let capacity = f64::from(base) / units.ptu_per_rps_mean.max(f64::MIN_POSITIVE);
        let hybrid = |rps: f64| {
            f64::from(base) * per_ptu_month + units.payg_per_rps_month * (rps - capacity).max(0.0)
        };
        series.push(line(
            format!("hybrid: {base} PTU ({}) + PAYG overflow", mode.label()),
            &hybrid,
        ));
    }
    CostCurve {
        deployment_type: sizing.kind,
        loads_rps: loads,
        series,
        hybrid_base_ptu: base,
    }
}
