//! Section ownership through plan and apply: the user's text survives byte for byte.

use super::apply::{force, run, visible};
use super::*;
use crate::plan::{plan, Action, ConflictKind, State};
use crate::system::MemSystem;
use crate::{ApplyOptions, DeployError};

const BEFORE: &str = "# Notes\r\n\r\nMine, with CRLF.\r\n";

#[test]
fn text_around_a_section_is_kept_byte_for_byte() {
    let sys = MemSystem::new();
    sys.put("AGENTS.md", BEFORE.as_bytes(), false);
    run(
        &sys,
        &target(vec![section("AGENTS.md", "sdlc", "Rule one.")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    let with = sys.text("AGENTS.md").unwrap();
    assert_eq!(
        with,
        format!("{BEFORE}\r\n<!-- aiwg:begin sdlc -->\r\nRule one.\r\n<!-- aiwg:end sdlc -->\r\n"),
        "added in the file's own line ending"
    );
    // The user adds text after the section; an update touches only the inside.
    let edited = format!("{with}\r\nTrailing words without newline");
    sys.put("AGENTS.md", edited.as_bytes(), false);
    run(
        &sys,
        &target(vec![section("AGENTS.md", "sdlc", "Rule two.\n")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(
        sys.text("AGENTS.md").unwrap(),
        edited.replace("Rule one.", "Rule two.")
    );
    // Removing the section gives back the user's text.
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(
        sys.text("AGENTS.md").unwrap(),
        format!("{BEFORE}\r\nTrailing words without newline")
    );
}

#[test]
fn sections_of_several_sources_share_a_file() {
    let sys = MemSystem::with_files(&[("CLAUDE.md", "top\n")]);
    let both = target(vec![
        section("CLAUDE.md", "a", "A"),
        section("CLAUDE.md", "b", "B"),
    ]);
    run(&sys, &both, &ApplyOptions::default()).unwrap();
    let text = sys.text("CLAUDE.md").unwrap();
    assert_eq!(
        text,
        "top\n\n<!-- aiwg:begin a -->\nA\n<!-- aiwg:end a -->\n\n<!-- aiwg:begin b -->\nB\n<!-- aiwg:end b -->\n"
    );
    let p = plan(
        &both,
        &sys,
        &crate::engine::Engine::shared(&sys, crate::Layout::project())
            .read_lock()
            .unwrap(),
    )
    .unwrap();
    assert!(p.is_empty());
    run(
        &sys,
        &target(vec![section("CLAUDE.md", "b", "B")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(
        sys.text("CLAUDE.md").unwrap(),
        "top\n\n<!-- aiwg:begin b -->\nB\n<!-- aiwg:end b -->\n"
    );
}

#[test]
fn a_file_holding_only_sections_is_deleted_with_its_last_section() {
    let sys = MemSystem::new();
    run(
        &sys,
        &target(vec![
            section("WARP.md", "a", "A"),
            section("WARP.md", "b", "B"),
        ]),
        &ApplyOptions::default(),
    )
    .unwrap();
    run(
        &sys,
        &target(vec![section("WARP.md", "b", "B")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(
        sys.text("WARP.md").unwrap(),
        "<!-- aiwg:begin b -->\nB\n<!-- aiwg:end b -->\n"
    );
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text("WARP.md"), None);
}

fn check_broken(text: &str, reason: &str) {
    let sys = MemSystem::with_files(&[("AGENTS.md", text)]);
    let t = target(vec![section("AGENTS.md", "a", "A")]);
    let engine = crate::engine::Engine::shared(&sys, crate::Layout::project());
    let (p, _) = engine.plan(&t).unwrap();
    let item = &p.items[0];
    match item.conflict() {
        Some(ConflictKind::Unsafe(why)) => assert!(why.contains(reason), "{why}"),
        other => panic!("{text:?}: {other:?}"),
    }
    assert_eq!(item.new_data(), item.old());
    assert!(matches!(
        run(&sys, &t, &force()),
        Err(DeployError::Conflicts { .. })
    ));
    assert_eq!(sys.text("AGENTS.md").unwrap(), text, "never a guess");
}

#[test]
fn broken_or_duplicated_markers_are_a_conflict_force_does_not_resolve() {
    check_broken(
        "<!-- aiwg:begin a -->\nno end\n",
        "section `a` is never closed",
    );
    check_broken(
        "<!-- aiwg:begin a -->\n1\n<!-- aiwg:end a -->\n<!-- aiwg:begin a -->\n2\n<!-- aiwg:end a -->\n",
        "section `a` appears twice",
    );
    check_broken(
        "x\n<!-- aiwg:end a -->\n",
        "line 2: end of section `a` without a begin",
    );
}

#[test]
fn an_edited_section_is_a_conflict_and_force_replaces_only_the_inside() {
    let sys = MemSystem::with_files(&[("AGENTS.md", "intro\n")]);
    run(
        &sys,
        &target(vec![section("AGENTS.md", "a", "A")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    let edited = sys.text("AGENTS.md").unwrap().replace("A\n", "A, edited\n");
    sys.put("AGENTS.md", edited.as_bytes(), false);
    let t = target(vec![section("AGENTS.md", "a", "A2")]);
    let err = run(&sys, &t, &ApplyOptions::default()).unwrap_err();
    assert!(matches!(err, DeployError::Conflicts { .. }));
    let report = run(&sys, &t, &force()).unwrap();
    assert_eq!(report.overwritten, vec![rel("AGENTS.md")]);
    assert_eq!(
        sys.text("AGENTS.md").unwrap(),
        edited.replace("A, edited", "A2")
    );
}

#[test]
fn a_section_the_user_deleted_is_missing_and_appended_again() {
    let sys = MemSystem::with_files(&[("AGENTS.md", "intro\n")]);
    let t = target(vec![section("AGENTS.md", "a", "A")]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    sys.put("AGENTS.md", b"intro\n", false);
    let engine = crate::engine::Engine::shared(&sys, crate::Layout::project());
    let (p, _) = engine.plan(&t).unwrap();
    assert_eq!(
        (p.items[0].action, p.items[0].state()),
        (Action::Update, State::Missing)
    );
}

#[test]
fn a_whole_file_that_becomes_a_section_replaces_aiwgs_old_content() {
    let sys = MemSystem::new();
    run(
        &sys,
        &target(vec![file("AGENTS.md", "whole\n")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    run(
        &sys,
        &target(vec![section("AGENTS.md", "a", "A")]),
        &ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(
        sys.text("AGENTS.md").unwrap(),
        "<!-- aiwg:begin a -->\nA\n<!-- aiwg:end a -->\n"
    );
    let lock = sys.text("aiwg.lock").unwrap();
    assert!(!lock.contains("mode = \"file\""), "{lock}");
    assert_eq!(visible(&sys).len(), 3, "AGENTS.md, aiwg.lock, .gitignore");
}

#[test]
fn adding_then_removing_a_section_gives_back_the_users_exact_bytes() {
    for user in [
        "x",
        "x\n",
        "x\n\n",
        "# T\r\n\r\ntext\r\n",
        "# T\r\n\r\nno final newline",
        "\n",
        "  ",
        " \n\t\n",
    ] {
        let sys = MemSystem::with_files(&[("CLAUDE.md", user)]);
        for ids in [&["a"][..], &["a", "b"]] {
            let t = target(ids.iter().map(|id| section("CLAUDE.md", id, id)).collect());
            run(&sys, &t, &ApplyOptions::default()).unwrap();
            let with = sys.text("CLAUDE.md").unwrap();
            assert!(
                with.starts_with(user) && with.trim_end_matches(['\r', '\n']).ends_with("-->"),
                "{with:?}"
            );
            let crlf = crate::eol::of(user) == "\r\n";
            assert_eq!(crate::eol::of(&with) == "\r\n", crlf, "{with:?}");
            // Removing the first of two sections first, then the last.
            if ids.len() == 2 {
                run(
                    &sys,
                    &target(vec![section("CLAUDE.md", "b", "b")]),
                    &ApplyOptions::default(),
                )
                .unwrap();
            }
            run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
            assert_eq!(sys.text("CLAUDE.md").unwrap(), user, "{ids:?} {with:?}");
        }
    }
    // A file aiwg creates for its sections ends with a newline and goes with them.
    let sys = MemSystem::new();
    let t = target(vec![section("WARP.md", "a", "no newline")]);
    run(&sys, &t, &ApplyOptions::default()).unwrap();
    assert_eq!(
        sys.text("WARP.md").unwrap(),
        "<!-- aiwg:begin a -->\nno newline\n<!-- aiwg:end a -->\n"
    );
    run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
    assert_eq!(sys.text("WARP.md"), None);
}

#[test]
fn section_text_with_its_own_crlf_converges_in_a_crlf_file() {
    // Found by tests/fuzz.rs (seed 605): CRLF inside the wanted text was doubled to CR CR LF
    // in a CRLF file, which then never matched its lock.
    for user in ["\r\n<!-- aiwg:", "# Mine\r\n", "# Mine\n"] {
        let sys = MemSystem::with_files(&[("CLAUDE.md", user)]);
        let t = target(vec![section(
            "CLAUDE.md",
            "z",
            "crlf\r\nin it\r\nand\nlf\n",
        )]);
        run(&sys, &t, &ApplyOptions::default()).unwrap();
        let with = sys.text("CLAUDE.md").unwrap();
        assert!(!with.contains("\r\r"), "{with:?}");
        let engine = crate::Engine::shared(&sys, crate::Layout::project());
        assert!(engine.plan(&t).unwrap().0.is_empty(), "{user:?}: {with:?}");
        run(&sys, &TargetState::new(), &ApplyOptions::default()).unwrap();
        assert_eq!(sys.text("CLAUDE.md").unwrap(), user);
    }
}
