//! The worker's `--help` and README's configuration table name every
//! variable taskq reads, the metrics switch included.

use std::process::Command;

#[test]
fn help_and_readme_list_every_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_worker")).arg("--help").output().expect("run the worker");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    assert!(taskq::config::VARIABLES.iter().any(|(name, _, _)| *name == "TASKQ_EMF"));
    for (name, _, _) in taskq::config::VARIABLES {
        assert!(help.contains(name), "--help does not list {name}");
        assert!(readme.contains(&format!("| `{name}` |")), "README's configuration table does not list {name}");
    }
}
