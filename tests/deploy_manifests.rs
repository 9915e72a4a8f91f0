//! The container build file and the Kubernetes manifests (issue #15), checked offline: every
//! manifest against Kubernetes' JSON schemas (kubernetes-validate, pinned in
//! `.ci/install-python-deps`, bundles them: no cluster, no network), the pieces that must
//! agree (shard count, the results folder, Service ports, the scenario the pods read), every
//! pod non-root and unprivileged, the Indexed Job's and merge Job's own arguments run here as
//! real processes, and the Containerfile's stages, user and entrypoint.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use throttlebox::scenario::Scenario;

use crate::cli_support::{BIN, scratch};

const INSTALL: &str = "install it with .ci/install-python-deps";
/// The Kubernetes release the manifests are validated against.
const KUBERNETES: &str = "1.33.0";

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

/// The manifests: every `*.yaml` under deploy/kubernetes but the kustomization.
fn manifests() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for folder in [deploy(), deploy().join("jobs")] {
        for entry in fs::read_dir(&folder).expect("deploy folder") {
            let path = entry.expect("entry").path();
            let yaml = path.extension().is_some_and(|ext| ext == "yaml");
            if yaml
                && path
                    .file_name()
                    .is_some_and(|name| name != "kustomization.yaml")
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn python(args: &[&str]) -> Output {
    Command::new("python3")
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("python3 is not runnable ({error}); {INSTALL}"))
}

/// The YAML documents of `file`, as JSON (PyYAML, which kubernetes-validate brings).
fn documents(file: &Path) -> Vec<Value> {
    let output = python(&[
        "-c",
        "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))",
        file.to_str().expect("utf-8 path"),
    ]);
    assert!(
        output.status.success(),
        "{}: {}; {INSTALL}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

/// Every manifest document, by `Kind/name`.
fn objects() -> BTreeMap<String, Value> {
    manifests()
        .iter()
        .flat_map(|file| documents(file))
        .map(|doc| {
            let key = format!(
                "{}/{}",
                doc["kind"].as_str().expect("kind"),
                doc["metadata"]["name"].as_str().expect("name")
            );
            (key, doc)
        })
        .collect()
}

fn object<'a>(objects: &'a BTreeMap<String, Value>, key: &str) -> &'a Value {
    objects
        .get(key)
        .unwrap_or_else(|| panic!("{key} not among {:?}", objects.keys()))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| item.as_str().expect("a string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The value after `flag` in `args`.
fn flag<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args
        .iter()
        .position(|arg| arg == flag)
        .unwrap_or_else(|| panic!("{flag} not in {args:?}"));
    args.get(at + 1).expect("a value").as_str()
}

/// The pod spec of a Deployment, a Job or a Pod.
fn pod_spec(object: &Value) -> &Value {
    match object["kind"].as_str() {
        Some("Pod") => &object["spec"],
        _ => &object["spec"]["template"]["spec"],
    }
}

#[test]
fn every_manifest_passes_the_kubernetes_schemas_strictly() {
    let files = manifests();
    assert!(files.len() >= 6, "{files:?}");
    let mut args = vec![
        "-m".to_string(),
        "kubernetes_validate".to_string(),
        "--strict".to_string(),
        "-k".to_string(),
        KUBERNETES.to_string(),
    ];
    args.extend(files.iter().map(|file| file.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = python(&args);
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}\n({INSTALL})");
    for file in &files {
        assert!(
            report.contains(&format!("{} passed", file.display())),
            "{} not validated:\n{report}",
            file.display()
        );
    }
    // The validator rejects what the schemas forbid (so a pass means something).
    let bad = scratch("deploy", "bad-manifest").join("bad.yaml");
    let text = fs::read_to_string(deploy().join("jobs/sim-shards.yaml")).expect("job");
    fs::write(
        &bad,
        text.replace(
            "completionMode: Indexed",
            "completionMode: Indexed\n  shards: 3",
        ),
    )
    .expect("write");
    let output = python(&[
        "-m",
        "kubernetes_validate",
        "--strict",
        "-k",
        KUBERNETES,
        bad.to_str().expect("utf-8"),
    ]);
    assert!(!output.status.success(), "an unknown field passed");
}

#[test]
fn the_kustomization_names_real_files_and_the_mock_serves_the_services_ports() {
    let kustomization = &documents(&deploy().join("kustomization.yaml"))[0];
    for file in strings(&kustomization["resources"]) {
        assert!(deploy().join(&file).is_file(), "{file}");
    }
    let generated = &kustomization["configMapGenerator"][0];
    assert_eq!(generated["name"], "throttlebox-scenario");
    assert_eq!(strings(&generated["files"]), ["scenario.toml"]);
    let objects = objects();
    // Every pod reads the scenario from that ConfigMap.
    for (key, object) in &objects {
        for volume in pod_spec(object)["volumes"].as_array().into_iter().flatten() {
            if let Some(name) = volume["configMap"]["name"].as_str() {
                assert_eq!(name, "throttlebox-scenario", "{key}");
            }
        }
    }
    let scenario = Scenario::load(&deploy().join("scenario.toml"), &[]).expect("scenario");
    let fleet = scenario.fleet();
    assert_eq!(
        fleet.bind.to_string(),
        "0.0.0.0",
        "reachable from other pods"
    );
    let service = object(&objects, "Service/aoai-mock");
    let service_ports: Vec<(String, u64)> = service["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|port| {
            (
                port["name"].as_str().expect("name").to_string(),
                port["port"].as_u64().expect("port"),
            )
        })
        .collect();
    let resources: Vec<(String, u64)> = fleet
        .resources
        .iter()
        .map(|resource| (resource.name.clone(), u64::from(resource.port)))
        .collect();
    assert_eq!(service_ports, resources);
    let mock = object(&objects, "Deployment/aoai-mock");
    let container = &pod_spec(mock)["containers"][0];
    let container_ports: Vec<u64> = container["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|port| port["containerPort"].as_u64().expect("port"))
        .collect();
    assert_eq!(
        container_ports,
        resources.iter().map(|(_, port)| *port).collect::<Vec<_>>()
    );
    // The gateway sends each pool member to its port of the Service, with a strategy the
    // scenario has.
    let gateway = strings(
        &pod_spec(object(&objects, "Deployment/throttlebox-gateway"))["containers"][0]["args"],
    );
    let strategy = flag(&gateway, "--strategy");
    assert!(
        scenario
            .strategies
            .iter()
            .any(|s| s.config.name == strategy),
        "{strategy}"
    );
    let backends: Vec<&String> = gateway
        .iter()
        .zip(gateway.iter().skip(1))
        .filter(|(flag, _)| *flag == "--backend")
        .map(|(_, value)| value)
        .collect();
    let expected: Vec<String> = resources
        .iter()
        .map(|(name, port)| format!("{name}=http://aoai-mock:{port}"))
        .collect();
    let mut backends: Vec<String> = backends.into_iter().cloned().collect();
    backends.sort();
    let mut expected = expected;
    expected.sort();
    assert_eq!(backends, expected);
}

#[test]
fn every_pod_runs_the_released_image_as_non_root_without_privileges() {
    let image = format!("throttlebox:{}", env!("CARGO_PKG_VERSION"));
    let objects = objects();
    assert!(objects.len() >= 8, "{:?}", objects.keys());
    for (key, object) in &objects {
        let kind = object["kind"].as_str().expect("kind");
        if !["Deployment", "Job", "Pod"].contains(&kind) {
            continue;
        }
        assert_eq!(object["metadata"]["namespace"], "throttlebox", "{key}");
        let spec = pod_spec(object);
        assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{key}");
        assert_ne!(
            spec["securityContext"]["runAsUser"].as_u64(),
            Some(0),
            "{key}"
        );
        assert!(spec["securityContext"]["runAsUser"].is_u64(), "{key}");
        for container in spec["containers"].as_array().expect("containers") {
            let security = &container["securityContext"];
            assert_eq!(security["allowPrivilegeEscalation"], false, "{key}");
            assert_eq!(security["readOnlyRootFilesystem"], true, "{key}");
            assert_eq!(strings(&security["capabilities"]["drop"]), ["ALL"], "{key}");
            assert!(
                container["resources"]["limits"]["memory"].is_string(),
                "{key}"
            );
            let used = container["image"].as_str().expect("image");
            if key != "Pod/results-reader" {
                assert_eq!(used, image, "{key}");
            }
        }
    }
}

/// Replace the pod's paths and completion index by local ones.
fn localise(args: &[String], index: u32, results: &Path) -> Vec<String> {
    let scenario = deploy().join("scenario.toml");
    args.iter()
        .map(|arg| {
            arg.replace("$(JOB_COMPLETION_INDEX)", &index.to_string())
                .replace(
                    "/etc/throttlebox/scenario.toml",
                    scenario.to_str().expect("utf-8"),
                )
                .replace("/results", results.to_str().expect("utf-8"))
        })
        .collect()
}

#[test]
fn the_indexed_job_gives_each_pod_its_shard_and_the_merge_job_joins_them() {
    let objects = objects();
    let job = object(&objects, "Job/throttlebox-sim-shards");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    let shards = job["spec"]["completions"].as_u64().expect("completions");
    assert_eq!(job["spec"]["parallelism"].as_u64(), Some(shards));
    let args = strings(&pod_spec(job)["containers"][0]["args"]);
    assert_eq!(
        flag(&args, "--shard"),
        format!("$(JOB_COMPLETION_INDEX)/{shards}")
    );
    assert!(flag(&args, "--run").contains("$(JOB_COMPLETION_INDEX)"));
    let shards_folder = flag(&args, "--results");
    let merge = object(&objects, "Job/throttlebox-merge-sim");
    let merge_args = strings(&pod_spec(merge)["containers"][0]["args"]);
    assert_eq!(merge_args[0], "merge");
    assert_eq!(
        merge_args[1], shards_folder,
        "the merge reads the shards' folder"
    );
    // Both mount the one results claim at the same place.
    let mount = |object: &Value| {
        let spec = pod_spec(object);
        let volume = spec["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["persistentVolumeClaim"].is_object())
            .expect("a claim");
        let name = volume["name"].as_str().expect("name");
        let path = spec["containers"][0]["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .find(|m| m["name"] == name)
            .expect("mounted")["mountPath"]
            .clone();
        (volume["persistentVolumeClaim"]["claimName"].clone(), path)
    };
    assert_eq!(mount(job), mount(merge));
    assert_eq!(
        mount(job).0,
        object(&objects, "PersistentVolumeClaim/throttlebox-results")["metadata"]["name"]
    );
    let scenario = Scenario::load(&deploy().join("scenario.toml"), &[]).expect("scenario");
    assert!(
        shards as usize <= scenario.strategies.len(),
        "every shard must have a strategy"
    );
    // What the pods run, run here: the N shard processes side by side, then the merge.
    let _cores = crate::live_support::take_the_cores();
    let results = scratch("deploy", "job-args");
    run_side_by_side(
        (0..shards as u32).map(|index| localise(&args, index, &results)),
        &["--set", "workload.duration=1m"],
    );
    let output = Command::new(BIN)
        .args(localise(&merge_args, 0, &results))
        .output()
        .expect("merge runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let merged = Path::new(&localise(&[flag(&merge_args, "--out").to_string()], 0, &results)[0])
        .to_path_buf();
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(merged.join("summary.json")).expect("summary"))
            .expect("json");
    assert_eq!(summary["interrupted"], false);
    assert_eq!(
        summary["strategies"].as_array().map(Vec::len),
        Some(scenario.strategies.len())
    );
}

/// A build stage: its `FROM` (`ARG` defaults substituted) and its instructions.
type Stage = (String, Vec<String>);

/// The Containerfile's stages.
fn containerfile() -> Vec<Stage> {
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Containerfile"))
        .expect("Containerfile");
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    let mut logical = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && logical.is_empty()) {
            continue;
        }
        if let Some(part) = line.strip_suffix('\\') {
            logical.push_str(part);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let instruction = std::mem::take(&mut logical);
        if let Some(from) = instruction.strip_prefix("FROM ") {
            let mut image = from.split_whitespace().next().expect("image").to_string();
            for (name, value) in &args {
                image = image.replace(&format!("${{{name}}}"), value);
            }
            stages.push((
                image + &from[from.find(' ').unwrap_or(from.len())..],
                Vec::new(),
            ));
        } else if let Some(arg) = instruction
            .strip_prefix("ARG ")
            .filter(|_| stages.is_empty())
        {
            let (name, value) = arg.split_once('=').expect("ARG NAME=default");
            args.insert(name.to_string(), value.to_string());
        } else if let Some((_, body)) = stages.last_mut() {
            body.push(instruction);
        }
    }
    stages
}

#[test]
fn the_containerfile_builds_in_a_pinned_stage_and_runs_the_binary_as_non_root() {
    let stages = containerfile();
    assert_eq!(stages.len(), 2, "{stages:?}");
    let (builder, build) = &stages[0];
    // rust:<major.minor.patch>-…: a pinned toolchain, not `latest` or a moving `1`.
    let image = builder.split_whitespace().next().expect("image");
    let tag = image
        .rsplit_once("rust:")
        .map(|(_, tag)| tag)
        .unwrap_or_else(|| panic!("the builder is not a rust image: {builder}"));
    let version = tag.split('-').next().expect("version");
    assert_eq!(version.split('.').count(), 3, "{builder}");
    assert!(
        version.split('.').all(|part| part.parse::<u32>().is_ok()),
        "{builder}"
    );
    assert!(builder.ends_with(" AS builder"), "{builder}");
    assert!(
        build
            .iter()
            .any(|line| line.contains("cargo build --release --locked --bin throttlebox")),
        "{build:?}"
    );
    let (runtime, run) = &stages[1];
    assert!(
        runtime.starts_with("gcr.io/distroless/cc-debian12:nonroot"),
        "{runtime}"
    );
    let user = run
        .iter()
        .filter_map(|line| line.strip_prefix("USER "))
        .next_back()
        .expect("a USER");
    let uid = user.split(':').next().expect("uid");
    assert!(
        uid.parse::<u32>().is_ok_and(|uid| uid != 0),
        "non-root by number: {user}"
    );
    let entrypoint = run
        .iter()
        .filter_map(|line| line.strip_prefix("ENTRYPOINT "))
        .next_back()
        .expect("an ENTRYPOINT");
    let entrypoint: Vec<String> = serde_json::from_str(entrypoint).expect("exec form");
    assert_eq!(entrypoint.len(), 1);
    assert!(
        run.iter()
            .any(|line| line.starts_with("COPY --from=builder ")
                && line.ends_with(&format!(" {}", entrypoint[0]))),
        "the entrypoint is the binary copied from the builder: {run:?}"
    );
    let ignored = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".dockerignore"))
        .expect(".dockerignore");
    assert!(
        ignored.lines().any(|line| line.trim() == "target"),
        "the build context leaves target/ out"
    );
}

#[test]
fn the_load_shards_job_sends_its_part_from_the_shared_start_and_the_merge_job_joins_them() {
    let objects = objects();
    let job = object(&objects, "Job/throttlebox-load-shards");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(
        job["spec"]["backoffLimit"], 0,
        "a retried shard cannot rejoin the shared start"
    );
    let shards = job["spec"]["completions"].as_u64().expect("completions");
    assert_eq!(job["spec"]["parallelism"].as_u64(), Some(shards));
    let container = &pod_spec(job)["containers"][0];
    let args = strings(&container["args"]);
    assert_eq!(args[0], "load");
    assert_eq!(
        flag(&args, "--shard"),
        format!("$(JOB_COMPLETION_INDEX)/{shards}")
    );
    assert!(flag(&args, "--run").contains("$(JOB_COMPLETION_INDEX)"));
    // --start-at comes from the pod's START_AT, an RFC 3339 instant in UTC.
    assert_eq!(flag(&args, "--start-at"), "$(START_AT)");
    let start_at = container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|var| var["name"] == "START_AT")
        .expect("START_AT")["value"]
        .as_str()
        .expect("value")
        .to_string();
    start_at
        .parse::<throttlebox::shard::StartAt>()
        .expect("START_AT is an instant --start-at takes");
    // It drives the gateway Service, at the Service's port.
    let service = object(&objects, "Service/throttlebox-gateway");
    let port = service["spec"]["ports"][0]["port"].as_u64().expect("port");
    assert_eq!(
        flag(&args, "--target"),
        format!(
            "http://{}:{port}",
            service["metadata"]["name"].as_str().expect("name")
        )
    );
    let merge = object(&objects, "Job/throttlebox-merge-load");
    let merge_args = strings(&pod_spec(merge)["containers"][0]["args"]);
    assert_eq!(merge_args[0], "merge");
    assert_eq!(
        merge_args[1],
        flag(&args, "--results"),
        "the merge reads the shards' folder"
    );

    // What the pods run, run here against a local answering target (port 0), played 20×
    // faster over 30 scenario seconds: the shards side by side from one start, then the merge.
    let _cores = crate::live_support::take_the_cores();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let target = runtime.block_on(crate::live_support::answering_backend(|| async {}));
    let results = scratch("deploy", "load-job-args");
    let start = throttlebox::shard::StartAt::from_unix(
        throttlebox::shard::StartAt::now().since_epoch() + std::time::Duration::from_secs(2),
    )
    .to_string();
    let local = |args: &[String], index: u32| -> Vec<String> {
        localise(args, index, &results)
            .into_iter()
            .map(|arg| {
                arg.replace("$(START_AT)", &start)
                    .replace(flag(&args_of(job), "--target"), &format!("http://{target}"))
            })
            .collect()
    };
    let shortened = ["--set", "workload.duration=30s", "--time-scale", "20"];
    run_side_by_side(
        (0..shards as u32).map(|index| local(&args, index)),
        &shortened,
    );
    let output = Command::new(BIN)
        .args(local(&merge_args, 0))
        .output()
        .expect("merge runs");
    let merged = Path::new(&local(&[flag(&merge_args, "--out").to_string()], 0)[0]).to_path_buf();
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(merged.join("summary.json")).expect("summary"))
            .expect("json");
    // --strict: exit 3 exactly when the merged run is not to be trusted.
    let valid = summary["strategies"][0]["validity"]["valid"] == true;
    assert_eq!(
        output.status.code(),
        Some(if valid { 0 } else { 3 }),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let overrides = [throttlebox::scenario::Override::parse("workload.duration=30s").expect("set")];
    let scenario = Scenario::load(&deploy().join("scenario.toml"), &overrides).expect("scenario");
    let scheduled = scenario.workload().expect("workload").requests().count() as u64;
    assert_eq!(
        summary["strategies"][0]["requests"].as_u64(),
        Some(scheduled)
    );
    assert_eq!(summary["strategies"][0]["name"], flag(&args, "--label"));
}

/// Run the shards' command lines (each with `extra` added) as processes side by side, and
/// check that every one succeeds.
fn run_side_by_side(commands: impl Iterator<Item = Vec<String>>, extra: &[&str]) {
    let children: Vec<_> = commands
        .map(|args| {
            Command::new(BIN)
                .args(args)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("shard starts")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("shard ends");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// A Job's container arguments.
fn args_of(job: &Value) -> Vec<String> {
    strings(&pod_spec(job)["containers"][0]["args"])
}
