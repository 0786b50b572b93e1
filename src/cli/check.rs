//! `brink check`: validate a scenario and print it readably, or audit its sources for
//! hindsight with `--as-of DATE`.

use super::*;
use crate::scenario::sources::{self, CiteError};

#[derive(Debug, Args)]
pub(super) struct CheckArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Hindsight audit: list every param, step, branch, trigger and schedule entry that
    /// cites a source published after DATE (YYYY-MM-DD), instead of printing the scenario.
    #[arg(long, value_name = "DATE", value_parser = parse_as_of)]
    as_of: Option<crate::sim::calendar::Date>,
}

fn parse_as_of(s: &str) -> Result<crate::sim::calendar::Date, String> {
    scenario::log::parse_date(s).ok_or_else(|| format!("`{s}` is not a calendar date YYYY-MM-DD"))
}

pub(super) fn check(a: CheckArgs) -> Result<(), Failure> {
    let (model, source, ov) = load(&a.scenario)?;
    // Variants change params, so each is compiled too: a variant that sets a p to 2
    // is an error even when it is not the one asked for.
    if a.scenario.variant.is_none() {
        let name = a.scenario.scenario.display().to_string();
        for (v, _) in &model.variants {
            let ov = Overrides { variant: Some(v.clone()), ..ov.clone() };
            scenario::compile_str(&name, &source, &ov).map_err(LoadError::Invalid)?;
        }
    }
    // The sources file, when the scenario names one: every cited key must be in it.
    let cited = sources::check(&a.scenario.scenario, &source).map_err(|e| match e {
        CiteError::Scenario(d) => Failure::Load(LoadError::Invalid(d)),
        CiteError::File(e) => Failure::Usage(e.to_string()),
    })?;
    let file = a.scenario.scenario.display();
    let Some(as_of) = a.as_of else {
        say(&crate::present::summary::describe(&model));
        let variants = match model.variants.len() {
            0 => String::new(),
            n => format!(" ({n} variant{} checked too)", if n == 1 { "" } else { "s" }),
        };
        let keys = match &cited {
            Some(c) => format!(
                ", {} source citation{} found in its sources file",
                c.citations.len(),
                plural(c.citations.len())
            ),
            None => String::new(),
        };
        say(&format!("\n{file}: valid{variants}{keys}\n"));
        return Ok(());
    };
    let Some(cited) = cited else {
        return Err(Failure::Usage(format!(
            "{file} names no sources file, so --as-of has no publication dates to compare: \
             add `sources = \"PATH\"` to [scenario] (docs/scenario-language.md)"
        )));
    };
    say(&crate::present::summary::hindsight(&file.to_string(), &source, &cited, as_of));
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
