pub mod charts;
pub mod folder;
pub mod graph;
pub mod report;
pub mod summary;
pub mod trace;
