//! The stream-deploy skill's scripts: the quality gate decides on recorded ffprobe captures
//! (`tests/fixtures/stream/`), so it is tested without a relay; the test stream is run for
//! real against 127.0.0.1 when ffmpeg is installed, to prove the key never reaches output.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::repo_root;

fn script(name: &str) -> PathBuf {
    repo_root()
        .join("content/extensions/stream/skills/stream-deploy/scripts")
        .join(name)
}

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/stream").join(name)
}

/// Runs `sh script args...`: (exit code, stdout, stderr).
fn sh(script: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("sh").arg(script).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const EXPECT: [&str; 14] = [
    "--kbps",
    "2500",
    "--fps",
    "30",
    "--size",
    "1280x720",
    "--codec",
    "h264",
    "--gop-seconds",
    "2",
    "--akbps",
    "128",
    "--arate",
    "48000",
];

/// The gate on `capture` (and an encoder log): exit code and the rows that failed.
fn gate(capture: &Path, extra: &[&str]) -> (i32, Vec<String>) {
    let capture = capture.to_str().unwrap();
    let args: Vec<&str> = std::iter::once(capture)
        .chain(EXPECT)
        .chain(extra.iter().copied())
        .collect();
    let (code, stdout, stderr) = sh(&script("quality-gate.sh"), &args);
    assert!(stdout.starts_with("metric "), "{stdout}{stderr}");
    let failed = stdout
        .lines()
        .filter(|l| l.ends_with(" FAIL"))
        .map(|l| l.split("  ").next().unwrap().trim().to_string())
        .collect();
    (code, failed)
}

#[test]
fn quality_gate_passes_a_good_capture_and_fails_each_defect() {
    let none: Vec<String> = Vec::new();
    assert_eq!(gate(&fixture("good.capture"), &[]), (0, none));
    assert_eq!(
        gate(&fixture("low-bitrate.capture"), &[]),
        (1, vec!["video bitrate".to_string()])
    );
    assert_eq!(
        gate(&fixture("long-gop.capture"), &[]),
        (1, vec!["keyframe interval".to_string()])
    );
    let log = fixture("encoder-drops.log");
    assert_eq!(
        gate(
            &fixture("good.capture"),
            &["--encoder-log", log.to_str().unwrap()]
        ),
        (1, vec!["dropped frames".to_string()])
    );
    // The measured bitrate is in the row, so the operator sees what was measured.
    let (_, stdout, _) = sh(
        &script("quality-gate.sh"),
        &std::iter::once(fixture("low-bitrate.capture").to_str().unwrap())
            .chain(EXPECT)
            .collect::<Vec<_>>(),
    );
    assert!(stdout.contains("685 kbps"), "{stdout}");
}

#[test]
fn quality_gate_fails_an_empty_capture_and_refuses_bad_use() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.capture");
    std::fs::write(&empty, "").unwrap();
    assert_eq!(gate(&empty, &[]), (1, vec!["video packets".to_string()]));
    let (code, _, stderr) = sh(&script("quality-gate.sh"), &[]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("usage: "), "{stderr}");
    let capture = fixture("good.capture");
    let (code, _, _) = sh(
        &script("quality-gate.sh"),
        &[capture.to_str().unwrap(), "--kbps", "fast"],
    );
    assert_eq!(code, 2);
    let (code, _, _) = sh(&script("quality-gate.sh"), &["/nonexistent/capture"]);
    assert_eq!(code, 2);
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn test_stream_never_prints_the_key() {
    if !have("ffmpeg") {
        eprintln!(
            "ffmpeg is not installed: the test stream was not run (the gate tests still ran)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // An invented key, valid nowhere.
    let key = "live_q7Wm2Zr9Xk4Tp8Ln";
    let key_file = dir.path().join("test.key");
    std::fs::write(&key_file, key).unwrap();
    let logs = dir.path().join("logs");
    let env = dir.path().join("env");
    let run = |endpoint: &str| {
        std::fs::write(
            &env,
            format!(
                "TEST_STREAM_ENDPOINT={endpoint}\nTEST_STREAM_KEY_FILE={}\n",
                key_file.display()
            ),
        )
        .unwrap();
        let out = Command::new("sh")
            .arg(script("test-stream.sh"))
            .args([env.to_str().unwrap(), "1", logs.to_str().unwrap()])
            .env("SIZE", "320x240")
            .env("KBPS", "300")
            .output()
            .unwrap();
        let log = std::fs::read_to_string(logs.join("test-stream.log")).unwrap();
        let all = format!(
            "{}{}{log}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(key), "the key leaked:\n{all}");
        (out.status.code(), all)
    };
    // Nothing listens on port 9 of 127.0.0.1: the run fails, and says so without the key.
    let (code, all) = run("rtmp://127.0.0.1:9/live");
    assert_ne!(code, Some(0), "{all}");
    assert!(all.contains("FAIL: the synthetic stream ended"), "{all}");
    // A local file as the ingest: the run succeeds and the key is still redacted.
    let ingest = dir.path().join("ingest");
    std::fs::create_dir(&ingest).unwrap();
    let (code, all) = run(&format!("file:{}", ingest.display()));
    assert_eq!(code, Some(0), "{all}");
    assert!(
        ingest.join(key).is_file(),
        "the stream went to the key's path"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&logs), 0o700);
        assert_eq!(mode(&logs.join("test-stream.log")), 0o600);
    }
}

/// A staged configuration folder as the stream-deploy skill expects it, owned by the user
/// running the test; `tweak` edits it before validation.
fn staged(dir: &Path) -> PathBuf {
    let next = dir.join("svc.next");
    let keys = dir.join("keys");
    std::fs::create_dir_all(&next).unwrap();
    std::fs::create_dir_all(&keys).unwrap();
    for name in ["stream.key", "test.key"] {
        let path = keys.join(name);
        // Invented keys, valid nowhere.
        std::fs::write(&path, "live_q7Wm2Zr9Xk4Tp8Ln").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    std::fs::write(
        next.join("env"),
        format!(
            "STREAM_ENDPOINT=rtmps://ingest.example.net:443/live\nSTREAM_KEY_FILE={0}/stream.key\nTEST_STREAM_ENDPOINT=rtmp://127.0.0.1:9/live\nTEST_STREAM_KEY_FILE={0}/test.key\n",
            keys.display()
        ),
    )
    .unwrap();
    std::fs::write(
        next.join("encoder-config.yaml"),
        "service: \"svc\"\nhardware_acceleration:\n  enabled: false\ncredential_refs:\n  stream_key:\n    ref: \"env:STREAM_KEY_FILE\"   # the env file names a key file\n  srt_passphrase:\n    ref: \"none\"\nmonitoring:\n  relay_probe_url: \"rtmp://relay.internal/live/{stream_key_ref}\"\n",
    )
    .unwrap();
    next
}

#[cfg(unix)]
#[test]
fn validate_staged_passes_a_sound_config_and_names_each_defect_without_its_value() {
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    let validate = |next: &Path| {
        let (code, stdout, stderr) = sh(
            &script("validate-staged.sh"),
            &[next.to_str().unwrap(), &user, "--no-network"],
        );
        assert!(
            !stdout.contains("q7Wm2Zr9") && !stdout.contains("Vi5a5p63"),
            "{stdout}"
        );
        let fails: Vec<String> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("FAIL: "))
            .map(str::to_string)
            .collect();
        (code, fails, stderr)
    };
    let dir = tempfile::tempdir().unwrap();
    let next = staged(dir.path());
    assert_eq!(validate(&next), (0, vec![], String::new()));

    let config = next.join("encoder-config.yaml");
    let sound = std::fs::read_to_string(&config).unwrap();
    // Invented keys; the markers keep secret-guard from blocking an edit of this file.
    let cases: [(&str, &str, &str); 4] = [
        (
            "  relay_probe_url: \"rtmp://relay.internal/live/{stream_key_ref}\"",
            "  relay_probe_url: \"rtmp://relay.internal/live?key=Vi5a5p63RjfE7xew\"", // secret-guard: allow
            "a credential inside a stream URL in:",
        ),
        (
            "  relay_probe_url: \"rtmp://relay.internal/live/{stream_key_ref}\"",
            "  relay_probe_url: \"rtmp://relay.internal/live/Vi5a5p63RjfE7xewqZ0n\"", // secret-guard: allow
            "an RTMP URL ends in what looks like a stream key in:",
        ),
        (
            "    ref: \"none\"",
            "    ref: \"Vi5a5p63RjfE7xew\"",
            "credential_refs holds a value that is not env:, file:, vault: or none, at:",
        ),
        (
            "  enabled: false",
            "  enabled: true\n  device: \"/dev/nonexistent-encoder\"",
            "hardware device missing: /dev/nonexistent-encoder",
        ),
    ];
    for (from, to, fail) in cases {
        std::fs::write(&config, sound.replace(from, to)).unwrap();
        let (code, fails, _) = validate(&next);
        assert_eq!(
            (code, fails.as_slice()),
            (1, &[fail.to_string()][..]),
            "{to}"
        );
    }
    std::fs::write(&config, &sound).unwrap();

    use std::os::unix::fs::PermissionsExt;
    let key = dir.path().join("keys/stream.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, fails, _) = validate(&next);
    assert_eq!(code, 1);
    assert_eq!(
        fails,
        ["STREAM_KEY_FILE mode is -rw-r--r--; it must be 600 or 400"]
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    let env = next.join("env");
    let full = std::fs::read_to_string(&env).unwrap();
    std::fs::write(
        &env,
        full.replace("TEST_STREAM_ENDPOINT=rtmp://127.0.0.1:9/live\n", ""),
    )
    .unwrap();
    let (code, fails, _) = validate(&next);
    assert_eq!(code, 1);
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(
        fails[0].starts_with("TEST_STREAM_ENDPOINT not set"),
        "{fails:?}"
    );

    let (code, _, stderr) = sh(&script("validate-staged.sh"), &["/nonexistent", &user]);
    assert_eq!(code, 2, "{stderr}");
}
