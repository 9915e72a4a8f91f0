//! Named random streams: the mock's derivation (`aoai_mock::seed`: one stream per name under
//! the scenario seed) re-exported, plus the names the simulator and the live shells both draw
//! from ([`streams`]), defined once so both draw the same numbers for the same decisions.

pub mod streams;

pub use aoai_mock::seed::{SimRng, stream};
