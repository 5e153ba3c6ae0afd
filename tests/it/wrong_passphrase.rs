//! A wrong passphrase: exit 3, exactly one `techo: error:` line, nothing on stdout, and the
//! vault folder byte-for-byte unchanged (no file written, no `-wal`/`-shm` created) — for every
//! command that unlocks.

use rstest::rstest;
use serde_json::Value;
use std::ffi::OsString;
use std::path::Path;
use std::sync::OnceLock;
use techo_tests::*;

struct Fixture {
    vault: TempVault,
    record_id: Value,
    stats: Value,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let v = TempVault::uninitialised_in(Some(Path::new(env!("CARGO_TARGET_TMPDIR"))));
        v.run(["init"]).ok();
        let f = v.input(
            "records.json",
            to_bytes(&bundle(
                "collection",
                &[
                    patient("p-wp", "WP-0001", "Passphrase", "Test"),
                    observation("o-wp-1", "p-wp", "2345-7", "95", "2024-01-02"),
                ],
            )),
        );
        v.import(&[&f], None).ok();
        let rows = v.list(&[]);
        let record_id = rows.first().expect("a record")["record_id"].clone();
        let stats = v.stats();
        Fixture { vault: v, record_id, stats }
    })
}

fn wrong(kind: &str) -> String {
    match kind {
        "different" => "a completely different passphrase".to_owned(),
        "one_char_short" => PASSPHRASE[..PASSPHRASE.len() - 1].to_owned(),
        "one_char_more" => format!("{PASSPHRASE}x"),
        "uppercased" => PASSPHRASE.to_uppercase(),
        other => panic!("unknown kind {other}"),
    }
}

#[rstest]
fn wrong_passphrase_changes_nothing(
    #[values(
        "stats", "list", "show", "export", "search", "unlock", "import", "person_list",
        "person_add", "check", "passphrase_change", "rekey"
    )]
    command: &str,
    #[values("different", "one_char_short", "one_char_more", "uppercased")] passphrase: &str,
) {
    let fx = fixture();
    let v = TempVault::copy_of(&fx.vault);
    let file = v.input("more.ndjson", ndjson(&[observation("o-more", "p-wp", "2345-7", "88", "2024-05-06")]));
    let rid = id_arg(&fx.record_id);
    let args: Vec<OsString> = match command {
        "stats" => vec!["--json".into(), "stats".into()],
        "list" => vec!["--json".into(), "list".into()],
        "show" => vec!["show".into(), rid.into()],
        "export" => vec!["export".into(), "--format".into(), "ndjson".into()],
        "search" => vec!["search".into(), "Passphrase".into()],
        "unlock" => vec!["unlock".into()],
        "import" => vec!["import".into(), file.into()],
        "person_list" => vec!["--json".into(), "person".into(), "list".into()],
        "person_add" => vec!["person".into(), "add".into(), "Someone".into()],
        "check" => vec!["check".into()],
        "passphrase_change" => vec!["passphrase".into(), "change".into()],
        "rekey" => vec!["rekey".into()],
        other => panic!("unknown command {other}"),
    };
    let bad = wrong(passphrase);
    // passphrase change reads old then new; everything else reads one line.
    let stdin = format!("{bad}\nanother new passphrase 1234\n");
    let had_wal = v.dir.join("techo.db-wal").exists();
    let before = v.snapshot();

    let out = v.run_stdin(stdin.as_bytes(), &args).expect_code(exit::WRONG_PASSPHRASE);
    out.error_line();
    assert!(out.stdout.is_empty(), "`{}` printed {} bytes on stdout", out.what, out.stdout.len());
    if !had_wal {
        assert!(!v.dir.join("techo.db-wal").exists(), "`{}` created techo.db-wal", out.what);
    }
    assert_same_files(&before, &v.snapshot(), &out.what);

    // The right passphrase still opens it, with the same contents.
    assert_eq!(v.stats(), fx.stats, "stats after a wrong-passphrase `{}`", out.what);
}

#[test]
fn many_wrong_attempts_then_the_right_one_works() {
    let fx = fixture();
    let v = TempVault::copy_of(&fx.vault);
    let before = v.snapshot();
    for i in 0..5 {
        let out = v
            .run_with_passphrase(&format!("wrong passphrase number {i}"), ["unlock"])
            .expect_code(exit::WRONG_PASSPHRASE);
        out.error_line();
    }
    assert_same_files(&before, &v.snapshot(), "five wrong unlocks");
    v.run(["unlock"]).ok();
    assert_eq!(v.stats(), fx.stats);
}
