//! `subcut presets list | show NAME`.

use anyhow::Result;

use super::EXIT_OK;
use crate::cli::PresetsCommand;

pub(super) fn command(cmd: PresetsCommand) -> Result<i32> {
    match cmd {
        PresetsCommand::List => {
            let list = crate::preset::list();
            let w = list
                .iter()
                .map(|p| p.name.chars().count())
                .max()
                .unwrap_or(0);
            for p in list {
                let from = match &p.origin {
                    crate::preset::Origin::Shipped => String::new(),
                    crate::preset::Origin::User(path) => format!("  [{}]", path.display()),
                };
                let problem = p
                    .problem
                    .map(|e| format!("  (error: {e})"))
                    .unwrap_or_default();
                crate::output::print_stdout(format_args!(
                    "{:<w$}  {}{from}{problem}\n",
                    p.name, p.description
                ))?;
            }
        }
        PresetsCommand::Show { name } => {
            crate::output::print_stdout(crate::preset::show(&name)?)?;
        }
    }
    Ok(EXIT_OK)
}
