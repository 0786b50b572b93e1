pub mod calendar;
pub mod dist;
pub mod engine;
pub mod model;
pub mod params;
pub mod rng;
pub mod runner;
pub mod stats;
