//! Guarantee 4 (R5): YAML aliases in frontmatter are refused before anything expands; a
//! 400-byte file costs milliseconds and megabytes, in `validate`, `check` and `apply` alike.

use super::{assert_names, Hostile, Output};

/// Nine lists of nine aliases to the previous one, `depth` levels (R5's reproduction).
fn bomb(depth: usize) -> String {
    let mut lines = vec![format!("a: &a [{}]", ["\"lol\""; 9].join(","))];
    for i in 1..depth {
        let (this, prev) = ((b'a' + i as u8) as char, (b'a' + i as u8 - 1) as char);
        lines.push(format!(
            "{this}: &{this} [{}]",
            vec![format!("*{prev}"); 9].join(",")
        ));
    }
    format!("---\ndescription: bomb\n{}\n---\nbody\n", lines.join("\n"))
}

#[test]
fn an_alias_bomb_is_refused_quickly_naming_file_and_line() {
    let text = bomb(10);
    assert!(text.len() < 500, "{} bytes", text.len());
    let c = Hostile::new();
    c.write(".aiwg/agents/bomb.md", &text)
        .write(
            "aiwg.toml",
            "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
        )
        .clone();
    let before = c.outside();
    for args in [&["validate"][..], &["apply"], &["check"]] {
        let started = std::time::Instant::now();
        // Unbounded expansion of this file needs tens of gigabytes; 1 GiB of address space
        // (threads' stacks and allocator arenas included) is far more than aiwg needs.
        let Output {
            code,
            stdout: out,
            stderr: err,
        } = c.run_limited(1024, args);
        let took = started.elapsed();
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert_names(
            &format!("{out}{err}"),
            &[".aiwg/agents/bomb.md:4", "aliases"],
        );
        // A bound, not a speed claim: the expanding parser ran for minutes.
        assert!(took.as_secs() < 20, "{args:?} took {took:?}");
    }
    assert!(!c.victim().join(".claude").exists());
    c.assert_contained(&before);
}
