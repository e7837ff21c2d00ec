//! The worker's `--help` lists every variable of `taskq::config::VARIABLES`
//! (README's table is checked against it in taskq's tests).

use std::process::Command;

#[test]
fn help_lists_every_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_worker")).arg("--help").output().expect("run the worker");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(taskq::config::VARIABLES.iter().any(|v| v.name == "TASKQ_EMF"));
    for v in taskq::config::VARIABLES {
        assert!(help.contains(v.name), "--help does not list {}", v.name);
    }
    assert!(help.contains(&taskq::config::help_text()), "--help prints the table as help_text() does");
}
