//! `aiwg trust`: shows what the project asks for that needs consent (its hooks, `scope =
//! "user"`, sources outside it; those of `aiwg.local.toml` included) and records that the
//! user allows it, until it changes.

use crate::commands::{Context, UserError};
use crate::pipeline;
use crate::printer::say;
use crate::project::Project;
use crate::trust::{self, Item, Record, RunConsent};

/// Runs `aiwg trust [--show | --revoke]`.
pub fn run(ctx: &Context, show: bool, revoke: bool) -> anyhow::Result<u8> {
    let project = Project::discover(&ctx.cwd)?;
    let root = project.root.display().to_string();
    let shown_root = aiwg_core::escape::escape(&root);
    if revoke {
        let had = !Record::load(&project.root).allowed.is_empty();
        let mut empty = Record::load(&project.root);
        empty.allowed.clear();
        empty.save(&project.root)?;
        say!(
            "{} for `{shown_root}`",
            if had {
                "took back everything allowed"
            } else {
                "nothing was allowed"
            }
        );
        return Ok(0);
    }
    // What is asked needs the sources read, the outside ones included: running this command
    // is asking to see them.
    trust::set_run_consent(RunConsent {
        all: true,
        ..RunConsent::default()
    });
    // The personal overlay asks through the same record: its sources and hooks are shown too.
    let scope = project
        .config
        .as_ref()
        .map_or(aiwg_core::target::Scope::Project, |c| c.scope);
    let asking = match crate::overlay::load(&project, scope)? {
        Some(overlay) => overlay.merged,
        None => project,
    };
    let project = &asking;
    let items = asked(project)?;
    let record = Record::load(&project.root);
    if items.is_empty() {
        say!(
            "`{shown_root}` asks for nothing that needs consent: no hooks of its own, no user scope, no source outside it"
        );
        return Ok(0);
    }
    say!("`{shown_root}` asks for:");
    for item in &items {
        let state = if record.allowed.contains(&item.key()) {
            "allowed"
        } else {
            "new"
        };
        say!("  [{state}] {}", item.describe());
    }
    if show {
        say!("hint: `aiwg trust` allows all of it for this project, until it changes");
        return Ok(0);
    }
    let mut record = record;
    // Exactly what is asked now: keys of older versions are dropped.
    record.allowed = items.iter().map(Item::key).collect();
    let path = record.save(&project.root)?;
    say!(
        "allowed for this project until it changes (recorded in `{}`; `aiwg trust --revoke` takes it back)",
        aiwg_core::escape::escape(&path.display().to_string())
    );
    Ok(0)
}

/// Everything `project` asks for: user scope from its `aiwg.toml`, its sources outside it,
/// and every behavior of a non-bundled source.
fn asked(project: &Project) -> anyhow::Result<Vec<Item>> {
    let mut items: Vec<Item> = trust::user_scope_item(project).into_iter().collect();
    items.extend(trust::outside_sources(project));
    items.extend(trust::git_sources(project));
    let model = pipeline::load_model(project).map_err(|e| {
        anyhow::Error::from(UserError::new(
            format!("cannot show its hooks: {e:#}"),
            "fix the sources (`aiwg validate`), then run `aiwg trust` again",
        ))
    })?;
    items.extend(
        trust::hooks(project, &model)
            .into_iter()
            .filter(|h| !h.bundled)
            .map(Item::Hook),
    );
    Ok(items)
}
