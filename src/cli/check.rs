//! `brink check`: validate a scenario and print it readably.

use super::*;

#[derive(Debug, Args)]
pub(super) struct CheckArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
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
    say(&crate::present::summary::describe(&model));
    let variants = match model.variants.len() {
        0 => String::new(),
        n => format!(" ({n} variant{} checked too)", if n == 1 { "" } else { "s" }),
    };
    say(&format!("\n{}: valid{variants}\n", a.scenario.scenario.display()));
    Ok(())
}
