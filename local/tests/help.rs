//! `local --help` prints the variables table as the worker's does.

use std::process::Command;

#[test]
fn help_lists_every_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_local")).arg("--help").output().expect("run local");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains(&taskq::config::help_text()), "--help prints the table as help_text() does");
}
