//! What people read: the terminal summary, charts, the HTML report, chain diagrams and
//! single-trial traces. Charts and report are drawn from a results folder's bytes
//! ([`crate::output::results::Results`]), never from live aggregates.

pub mod charts;
pub mod folder;
pub mod graph;
pub mod report;
pub mod summary;
pub mod trace;
