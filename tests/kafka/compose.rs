//! `docker-compose.yml` cannot run here; it is checked instead: it parses, it has the
//! services the distributed deployment needs, and every variable is documented (the
//! `atende` binary's in `docs/configuration.md`, the other services' in
//! `docs/distributed.md`).

use clap::CommandFactory;
use std::collections::BTreeSet;
use yaml_rust2::{Yaml, YamlLoader};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn compose() -> Yaml {
    let text = std::fs::read_to_string(format!("{ROOT}/docker-compose.yml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn doc(page: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/docs/{page}")).unwrap()
}

/// The variables `docs/configuration.md` documents: the backquoted names in the first cell
/// of its tables' rows (a passing mention elsewhere on the page does not count).
fn configuration_rows() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in doc("configuration.md").lines() {
        let Some(row) = line.strip_prefix('|') else {
            continue;
        };
        let first_cell = row.split('|').next().unwrap_or_default();
        for (i, part) in first_cell.split('`').enumerate() {
            let is_name = !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if i % 2 == 1 && is_name {
                out.insert(part.to_owned());
            }
        }
    }
    out
}

/// The environment variable of every argument of `atende` and of each of its commands,
/// at any depth (`serve`, `worker`, `replay`, `privacy`, `bench …`).
fn cli_variables() -> BTreeSet<String> {
    fn walk(cmd: &clap::Command, out: &mut BTreeSet<String>) {
        for arg in cmd.get_arguments() {
            if let Some(var) = arg.get_env().and_then(|v| v.to_str()) {
                out.insert(var.to_owned());
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = BTreeSet::new();
    walk(&atende::cli::Cli::command(), &mut out);
    out
}

/// A service's environment keys, `<<` merges included.
fn environment(service: &Yaml) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some(env) = service["environment"].as_hash() else {
        return out;
    };
    for (k, v) in env {
        match k.as_str() {
            Some("<<") => {
                for (k, _) in v.as_hash().unwrap() {
                    out.insert(k.as_str().unwrap().to_owned());
                }
            }
            Some(k) => {
                out.insert(k.to_owned());
            }
            None => panic!("environment key {k:?} is not a string"),
        }
    }
    out
}

fn command(service: &Yaml) -> Vec<String> {
    service["command"]
        .as_vec()
        .map(|c| {
            c.iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_compose_file_runs_the_api_alone_and_two_workers_over_the_real_services() {
    let doc = compose();
    let services = &doc["services"];
    for name in [
        "postgres",
        "kafka",
        "qdrant",
        "mailpit",
        "atende-api",
        "atende-worker",
    ] {
        assert!(!services[name].is_badvalue(), "no service {name}");
        assert!(
            !services[name]["healthcheck"].is_badvalue(),
            "{name} has no health check"
        );
    }
    assert_eq!(services["postgres"]["image"].as_str(), Some("postgres:16"));
    assert!(services["kafka"]["image"]
        .as_str()
        .unwrap()
        .starts_with("apache/kafka:"));
    assert_eq!(
        services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"].as_str(),
        Some("broker,controller"),
        "Kafka runs in KRaft mode"
    );
    assert_eq!(command(&services["atende-api"]), ["serve", "--no-workers"]);
    assert_eq!(command(&services["atende-worker"]), ["worker"]);
    assert_eq!(
        services["atende-worker"]["deploy"]["replicas"].as_i64(),
        Some(2)
    );
    for name in ["atende-api", "atende-worker"] {
        let env = environment(&services[name]);
        assert!(
            env.contains("KAFKA_BROKERS") && env.contains("DATABASE_URL"),
            "{name}"
        );
        assert!(!services[name]["depends_on"].is_badvalue(), "{name}");
    }
    let depends = &services["atende-api"]["depends_on"];
    assert_eq!(
        depends["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert_eq!(
        depends["kafka"]["condition"].as_str(),
        Some("service_healthy")
    );
}

#[test]
fn every_variable_an_atende_command_reads_has_a_row_in_the_configuration_page() {
    let documented = configuration_rows();
    let variables = cli_variables();
    assert!(
        variables.contains("DATABASE_URL") && variables.contains("KAFKA_BROKERS"),
        "the command tree was not walked: {variables:?}"
    );
    let missing: Vec<_> = variables.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "variables read by `atende` but not documented in docs/configuration.md: {missing:?}"
    );
}

#[test]
fn every_variable_the_compose_services_read_is_documented_in_the_docs() {
    let compose_file = compose();
    let pages = [doc("distributed.md"), doc("configuration.md")];
    let mut missing = Vec::new();
    for (name, service) in compose_file["services"].as_hash().unwrap() {
        for var in environment(service) {
            if !pages.iter().any(|p| p.contains(&format!("`{var}`"))) {
                missing.push(format!("{}: {var}", name.as_str().unwrap()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "undocumented variables (neither in docs/distributed.md nor docs/configuration.md): {missing:?}"
    );
}
