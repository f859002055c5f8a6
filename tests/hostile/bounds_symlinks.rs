//! Guarantee 4 (R14): symlinks inside a source cannot amplify a small commit into gigabytes
//! written: every use of a file counts against the source's cap.

use super::{assert_names, Hostile, Output};

#[test]
fn a_blob_behind_fifty_links_is_refused_before_anything_is_written() {
    // Not compressible: git stores it at full size, once.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let blob: Vec<u8> = (0..9_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let c = Hostile::new();
    c.write(
        ".aiwg/skills/s/SKILL.md",
        "---\nname: s\ndescription: d\n---\nb\n",
    )
    .write(".aiwg/skills/s/data/blob.bin", blob)
    .write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\", \"codex\"]\n",
    );
    for i in 0..50 {
        c.symlink(&format!(".aiwg/skills/s/data/l{i}.bin"), "blob.bin");
    }
    c.clone();
    let before = c.outside();
    let started = std::time::Instant::now();
    let Output {
        code,
        stdout: out,
        stderr: err,
    } = c.run_limited(1024, &["apply"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_names(
        &err,
        &[".aiwg: error: source is over 64 MiB", "symlink", "hint:"],
    );
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    for path in [".claude", ".agents", "aiwg.lock"] {
        assert!(!c.victim().join(path).exists(), "{path} was written");
    }
    c.assert_contained(&before);
}

#[test]
fn nested_folder_links_stop_at_the_entry_cap() {
    let c = Hostile::new();
    c.write(
        ".aiwg/skills/s/SKILL.md",
        "---\nname: s\ndescription: d\n---\nb\n",
    )
    .write(".aiwg/skills/s/d0/x.md", "x\n")
    .write(
        "aiwg.toml",
        "sources = [\".aiwg\"]\nplatforms = [\"claude-code\"]\n",
    );
    let links: Vec<(String, String)> = (1..30)
        .flat_map(|l| {
            ["a", "b"].map(|n| (format!(".aiwg/skills/s/d{l}/{n}"), format!("../d{}", l - 1)))
        })
        .collect();
    for (path, target) in &links {
        c.symlink(path, target);
    }
    c.clone();
    let before = c.outside();
    let Output {
        code,
        stdout: out,
        stderr: err,
    } = c.run_limited(1024, &["validate"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_names(&out, &["more than 50000 files and folders"]);
    c.assert_contained(&before);
}
