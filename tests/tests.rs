//! brink's integration tests: one binary, one module per topic (as in ripgrep).
//!
//! Statistical tests compare against values derived by hand (closed forms or simple
//! cases) with tolerances taken from the confidence interval of the estimate, on fixed
//! seeds so they are reproducible.

mod mutate;
mod util;

mod backtest;
mod campaign;
#[cfg(all(unix, feature = "serve"))]
mod cdp;
mod charts;
mod checksums;
mod cli;
mod cli_groups;
mod compare;
mod consistency;
mod determinism;
mod distributions;
mod engine;
mod engine_ownership;
mod exchange;
mod explore;
mod fit;
mod fit_command;
mod fuzz_cli;
mod graph;
mod intervals;
mod layers;
mod one_copy;
mod output_formats;
mod params_file;
mod report_html;
mod robustness;
mod runner;
mod safety_force;
mod safety_input;
mod safety_merge;
mod safety_scale;
mod score;
#[cfg(feature = "serve")]
mod serve;
mod shard_kinds;
mod shard_manifest;
mod shards;
mod slurm_jobs;
mod sources;
mod split;
mod trace;
mod track;
mod uncertainty;
