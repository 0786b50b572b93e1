//! `brink graph`: the escalation chain of a scenario as a DOT or Mermaid diagram.

use super::*;

/// Diagram languages `brink graph` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum GraphFormat {
    /// Graphviz DOT: render with `dot -Tsvg chain.dot > chain.svg`.
    Dot,
    /// A Mermaid flowchart, for Markdown viewers that render ```mermaid blocks.
    Mermaid,
}

#[derive(Debug, Args)]
pub(super) struct GraphArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Diagram language.
    #[arg(long, value_enum, default_value = "dot")]
    format: GraphFormat,
}

pub(super) fn graph(a: GraphArgs) -> Result<(), Failure> {
    let (model, _, _) = load(&a.scenario)?;
    say(&match a.format {
        GraphFormat::Dot => crate::present::graph::dot(&model),
        GraphFormat::Mermaid => crate::present::graph::mermaid(&model),
    });
    Ok(())
}
