//! `docker-compose.yml` cannot run here; it is checked instead: it parses, it has the
//! services the distributed deployment needs, and every variable is documented.

use clap::CommandFactory;
use std::collections::BTreeSet;
use yaml_rust2::{Yaml, YamlLoader};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn compose() -> Yaml {
    let text = std::fs::read_to_string(format!("{ROOT}/docker-compose.yml")).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn readme() -> String {
    std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap()
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
            !services[name]["healthcheck"].is_badvalue() || name == "atende-worker",
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
fn every_variable_the_services_read_is_documented_in_the_readme() {
    let doc = compose();
    let readme = readme();
    let mut missing = Vec::new();
    for (name, service) in doc["services"].as_hash().unwrap() {
        for var in environment(service) {
            if !readme.contains(&format!("`{var}`")) {
                missing.push(format!("{}: {var}", name.as_str().unwrap()));
            }
        }
    }
    // And every variable `serve` and `worker` accept, whether compose sets it or not.
    let cli = atende::cli::Cli::command();
    let mut args: Vec<&clap::Arg> = cli.get_arguments().collect();
    for sub in ["serve", "worker"] {
        args.extend(cli.find_subcommand(sub).unwrap().get_arguments());
    }
    for arg in args {
        if let Some(var) = arg.get_env().and_then(|v| v.to_str()) {
            if !readme.contains(&format!("`{var}`")) {
                missing.push(format!("atende: {var}"));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented variables: {missing:?}");
}
