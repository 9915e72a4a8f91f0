//! Capacity planning (in progress).
