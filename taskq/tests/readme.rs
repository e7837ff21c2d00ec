//! README's configuration table matches `taskq::config::VARIABLES`: the
//! same variables, each once, with the same defaults.

use taskq::config::VARIABLES;

/// (variable, default) of each row of README's "Configuration" table.
fn readme_rows() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("\n## Configuration\n").nth(1).expect("README has a Configuration section");
    let section = section.split("\n## ").next().unwrap();
    let cell = |c: &str| c.trim().trim_matches('`').to_owned();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').collect();
            (cell(cells[1]), cell(cells[2]))
        })
        .collect()
}

#[test]
fn readme_configuration_table_is_the_variables_table() {
    let rows = readme_rows();
    for (name, default) in &rows {
        let v =
            VARIABLES.iter().find(|v| v.name == name).unwrap_or_else(|| panic!("README lists {name}, not a variable"));
        assert_eq!(default, v.default, "README's default of {name}");
        assert_eq!(rows.iter().filter(|(n, _)| n == name).count(), 1, "README lists {name} twice");
    }
    for v in VARIABLES {
        assert!(rows.iter().any(|(n, _)| n == v.name), "README's configuration table does not list {}", v.name);
    }
}
