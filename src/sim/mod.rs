//! The simulation core: model, random streams, distributions, engine, statistics, runner.
//!
//! Nothing here reads or writes files, parses text or draws: it is the part every result
//! depends on, and it names no other layer of the crate.

pub mod accumulate;
pub mod calendar;
pub mod dist;
pub mod engine;
pub mod model;
pub mod params;
pub(crate) mod queue;
pub mod rng;
pub mod runner;
pub mod split;
pub mod stats;
pub mod ziggurat;
