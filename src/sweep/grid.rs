//! The grid: axes parsed from `--set key=v1,v2`, and their cartesian product.

use crate::scenario::{Override, ScenarioError};

/// One axis: a key and the values to try.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The key (`breaker.trip_duration`).
    pub key: String,
    /// The values, as written.
    pub values: Vec<String>,
}

impl Axis {
    /// Parse `key=v1,v2,…`.
    pub fn parse(text: &str) -> Result<Axis, ScenarioError> {
        let (key, values) = text.split_once('=').ok_or_else(|| {
            ScenarioError::invalid("--set", "", text, "expected key=value1,value2,…")
        })?;
        let values: Vec<String> = values
            .split(',')
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_string)
            .collect();
        if values.is_empty() {
            return Err(ScenarioError::invalid("--set", key, text, "no values"));
        }
        Ok(Axis {
            key: key.trim().to_string(),
            values,
        })
    }
}

/// One cell: a value per axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The overrides of this cell, one per axis in axis order.
    pub overrides: Vec<Override>,
}

impl Cell {
    /// The value of each axis, as written.
    pub fn values(&self) -> Vec<String> {
        self.overrides.iter().map(Override::value_label).collect()
    }

    /// `key=value key=value` for messages and tables.
    pub fn label(&self) -> String {
        self.overrides
            .iter()
            .map(|o| format!("{}={}", o.key, o.value_label()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The cartesian product of `axes`, first axis slowest.
pub fn cells(axes: &[Axis]) -> Result<Vec<Cell>, ScenarioError> {
    let mut cells = vec![Cell {
        overrides: Vec::new(),
    }];
    for axis in axes {
        let mut next = Vec::with_capacity(cells.len() * axis.values.len());
        for cell in &cells {
            for value in &axis.values {
                let mut overrides = cell.overrides.clone();
                overrides.push(Override::new(&axis.key, value)?);
                next.push(Cell { overrides });
            }
        }
        cells = next;
    }
    Ok(cells)
}

/// The index of each axis's value in cell number `cell` of the grid of `axes` (first axis
/// slowest, as [`cells`] orders them).
pub fn position(axes: &[Axis], cell: usize) -> Vec<usize> {
    let mut rest = cell;
    let mut indices: Vec<usize> = axes
        .iter()
        .rev()
        .map(|axis| {
            let length = axis.values.len().max(1);
            let index = rest % length;
            rest /= length;
            index
        })
        .collect();
    indices.reverse();
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_the_cartesian_product_first_axis_slowest() {
        let axes = [
            Axis::parse("breaker.trip_duration=10s,30s,60s").unwrap(),
            Axis::parse("breaker.interval=10s, 60s").unwrap(),
        ];
        let grid = cells(&axes).unwrap();
        assert_eq!(grid.len(), 6);
        assert_eq!(
            grid[0].label(),
            "breaker.trip_duration=10s breaker.interval=10s"
        );
        assert_eq!(
            grid[1].label(),
            "breaker.trip_duration=10s breaker.interval=60s"
        );
        assert_eq!(
            grid[5].label(),
            "breaker.trip_duration=60s breaker.interval=60s"
        );
        assert_eq!(position(&axes, 5), [2, 1]);
        assert_eq!(position(&axes, 2), [1, 0]);
    }

    #[test]
    fn bad_axes_are_refused() {
        assert!(Axis::parse("breaker.trip_duration").is_err());
        assert!(Axis::parse("breaker.trip_duration=").is_err());
    }
}
