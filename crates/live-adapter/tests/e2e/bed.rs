//! The testbed as the suite uses it: the client from `testbed/up`'s kubeconfig, one test at a
//! time on a cluster reset to empty, objects applied as JSON, polling with a deadline, the
//! controller run as a child process, and the apiserver's audit log of status writes.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::Client;
use serde_json::{json, Value};
use std::future::Future;
use std::io::{Read, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The namespace every test's Workloads and LocalQueues live in (also the tenant's name: a
/// Workload's tenant defaults to its namespace).
pub const NAMESPACE: &str = "team-a";
/// The AdmissionCheck of ours every ClusterQueue names.
pub const CHECK: &str = "gpu-alloc";
/// Its controller name (the adapter's default).
pub const CONTROLLER: &str = "gpu-alloc.dev/admission-check";
/// The adapter's field manager (its default), as the audit log shows it.
pub const FIELD_MANAGER: &str = "gpu-alloc-admission-check";
/// The environment variable that names `testbed/up`'s state folder.
pub const ENV: &str = "GPU_ALLOC_TESTBED";

/// One test at a time: they share one cluster.
static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A running testbed, held by one test.
pub struct Bed {
    /// `testbed/up`'s state folder (kubeconfig, token, audit log, pids, logs).
    pub dir: PathBuf,
    /// A client as the cluster's admin.
    pub client: Client,
    /// A folder for this test's files (platform, policy, adapter logs).
    pub scratch: PathBuf,
    started: Instant,
    /// When the cluster was reset: the audit log is read from here on.
    since: jiff::Timestamp,
    _lock: tokio::sync::MutexGuard<'static, ()>,
}

/// The testbed named by `GPU_ALLOC_TESTBED`, reset to an empty cluster, or `None` (and a
/// line saying why the test is skipped) when none is up.
pub async fn bed(test: &str) -> Option<Bed> {
    let Some(dir) = std::env::var_os(ENV).map(PathBuf::from) else {
        eprintln!(
            "skipped e2e::{test}: {ENV} is not set (start a control plane with testbed/up and export what it prints)"
        );
        return None;
    };
    let lock = LOCK.lock().await;
    let client = client(&dir).await;
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("e2e")
        .join(test);
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("the scratch folder");
    let bed = Bed {
        dir,
        client,
        scratch,
        started: Instant::now(),
        since: jiff::Timestamp::now(),
        _lock: lock,
    };
    bed.reset().await;
    eprintln!("e2e::{test}: cluster reset in {:?}", bed.started.elapsed());
    Some(bed)
}

/// A client from the testbed's kubeconfig.
pub async fn client(dir: &Path) -> Client {
    let kubeconfig =
        Kubeconfig::read_from(dir.join("kubeconfig")).expect("the testbed's kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("a client configuration");
    Client::try_from(config).expect("a client")
}

/// The `ApiResource` of `kind` in `api_version` (every kind here pluralises with an `s`).
pub fn resource(api_version: &str, kind: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind),
        &format!("{}s", kind.to_lowercase()),
    )
}

const KUEUE: &str = "kueue.x-k8s.io/v1beta2";

/// Polls `probe` every 200 ms until it answers `Some`, or panics naming `what` after `limit`.
pub async fn until<T, F, Fut>(what: &str, limit: Duration, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    until_every(what, limit, Duration::from_millis(200), probe).await
}

/// Polls `probe` every `every` until it answers `Some`, or panics naming `what` after
/// `limit`.
pub async fn until_every<T, F, Fut>(what: &str, limit: Duration, every: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?}: {what}"
        );
        tokio::time::sleep(every).await;
    }
}

impl Bed {
    /// An API for `kind`, in the test namespace when `namespaced`.
    pub fn api(&self, api_version: &str, kind: &str, namespaced: bool) -> Api<DynamicObject> {
        let resource = resource(api_version, kind);
        if namespaced {
            Api::namespaced_with(self.client.clone(), NAMESPACE, &resource)
        } else {
            Api::all_with(self.client.clone(), &resource)
        }
    }

    /// Workloads in the test namespace.
    pub fn workloads(&self) -> Api<DynamicObject> {
        self.api(KUEUE, "Workload", true)
    }

    /// Creates or updates `object` by server-side apply (field manager `e2e`).
    pub async fn apply(&self, object: Value) -> DynamicObject {
        let api_version = object["apiVersion"].as_str().unwrap_or("v1").to_string();
        let kind = object["kind"].as_str().unwrap_or_default().to_string();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let namespaced = object["metadata"]["namespace"].is_string();
        let api = self.api(&api_version, &kind, namespaced);
        api.patch(
            &name,
            &PatchParams::apply("e2e").force(),
            &Patch::Apply(&object),
        )
        .await
        .unwrap_or_else(|error| panic!("apply {kind} {name}: {error}"))
    }

    /// A Workload as JSON (`null` once it is gone).
    pub async fn workload(&self, name: &str) -> Value {
        match self.workloads().get_opt(name).await {
            Ok(Some(object)) => serde_json::to_value(object).unwrap_or(Value::Null),
            Ok(None) => Value::Null,
            Err(error) => panic!("get Workload {name}: {error}"),
        }
    }

    /// Every Workload of the test namespace as JSON.
    pub async fn all_workloads(&self) -> Vec<Value> {
        self.workloads()
            .list(&ListParams::default())
            .await
            .expect("list Workloads")
            .items
            .into_iter()
            .filter_map(|object| serde_json::to_value(object).ok())
            .collect()
    }

    /// Polls the Workload `name` until `test` holds for it, returning it.
    pub async fn wait_workload(
        &self,
        name: &str,
        what: &str,
        limit: Duration,
        test: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        let found = tokio::time::timeout(limit, async {
            loop {
                let workload = self.workload(name).await;
                if test(&workload) {
                    return workload;
                }
                last = workload;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await;
        match found {
            Ok(workload) => workload,
            Err(_) => panic!(
                "timed out after {limit:?} waiting for Workload {name}: {what}; its status: {}",
                serde_json::to_string_pretty(&last["status"]).unwrap_or_default()
            ),
        }
    }

    /// Deletes every Kueue object, Node and Lease the tests make (finalizers removed: without a
    /// job integration nothing else would), and waits until they are gone.
    pub async fn reset(&self) {
        self.apply(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}),
        )
        .await;
        let kinds: [(&str, &str, bool); 8] = [
            (KUEUE, "Workload", true),
            (KUEUE, "LocalQueue", true),
            (KUEUE, "ClusterQueue", false),
            (KUEUE, "Cohort", false),
            (KUEUE, "ResourceFlavor", false),
            (KUEUE, "AdmissionCheck", false),
            ("v1", "Node", false),
            ("coordination.k8s.io/v1", "Lease", true),
        ];
        for (api_version, kind, namespaced) in kinds {
            let api = self.api(api_version, kind, namespaced);
            let listed = api.list(&ListParams::default()).await.expect("list");
            let _ = api
                .delete_collection(&DeleteParams::default(), &ListParams::default())
                .await;
            for object in listed.items {
                let name = object.metadata.name.clone().unwrap_or_default();
                if object
                    .metadata
                    .finalizers
                    .as_ref()
                    .is_some_and(|f| !f.is_empty())
                {
                    let _ = api
                        .patch(
                            &name,
                            &PatchParams::default(),
                            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
                        )
                        .await;
                }
            }
        }
        for (api_version, kind, namespaced) in kinds {
            let api = self.api(api_version, kind, namespaced);
            until(
                &format!("every {kind} deleted"),
                Duration::from_secs(60),
                || {
                    let api = api.clone();
                    async move {
                        let left = api.list(&ListParams::default()).await.ok()?;
                        for object in &left.items {
                            if object
                                .metadata
                                .finalizers
                                .as_ref()
                                .is_some_and(|f| !f.is_empty())
                            {
                                let _ = api
                                    .patch(
                                        object.metadata.name.as_deref().unwrap_or_default(),
                                        &PatchParams::default(),
                                        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
                                    )
                                    .await;
                            }
                        }
                        left.items.is_empty().then_some(())
                    }
                },
            )
            .await;
        }
    }

    /// Writes `text` to `name` in the scratch folder, returning its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.scratch.join(name);
        std::fs::write(&path, text).expect("a scratch file");
        path
    }

    /// The audit log's status writes by the adapter's field manager since this test began:
    /// (Workload name, HTTP code, time) for each PATCH of `workloads/status`.
    pub fn status_writes(&self) -> Vec<AuditedWrite> {
        let text = std::fs::read_to_string(self.dir.join("audit.log")).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| {
                event["objectRef"]["resource"] == "workloads"
                    && event["objectRef"]["subresource"] == "status"
                    && event["verb"] == "patch"
                    && event["requestURI"]
                        .as_str()
                        .is_some_and(|uri| uri.contains(&format!("fieldManager={FIELD_MANAGER}")))
            })
            .map(|event| AuditedWrite {
                workload: event["objectRef"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                code: event["responseStatus"]["code"].as_u64().unwrap_or(0),
                at: event["requestReceivedTimestamp"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok()),
            })
            .filter(|write| write.at.is_some_and(|at| at >= self.since))
            .collect()
    }

    /// How long this test has run.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// One status write the apiserver's audit log recorded.
#[derive(Debug, Clone)]
pub struct AuditedWrite {
    /// The Workload's name.
    pub workload: String,
    /// The HTTP code answered.
    pub code: u64,
    /// When it was received.
    pub at: Option<jiff::Timestamp>,
}

/// Our entry on a Workload.
pub fn entry(workload: &Value) -> Option<&Value> {
    workload["status"]["admissionChecks"]
        .as_array()?
        .iter()
        .find(|entry| entry["name"] == CHECK)
}

/// Our entry's state (`""` when there is none).
pub fn state(workload: &Value) -> &str {
    entry(workload)
        .and_then(|entry| entry["state"].as_str())
        .unwrap_or_default()
}

/// A condition of a Workload.
pub fn condition<'a>(workload: &'a Value, type_: &str) -> Option<&'a Value> {
    workload["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|condition| condition["type"] == type_)
}

/// Whether a Workload's condition is True.
pub fn is_true(workload: &Value, type_: &str) -> bool {
    condition(workload, type_).is_some_and(|condition| condition["status"] == "True")
}

/// The flavor Kueue reserved for the GPUs of a Workload's first pod set.
pub fn reserved_flavor(workload: &Value) -> Option<&str> {
    workload["status"]["admission"]["podSetAssignments"][0]["flavors"]["nvidia.com/gpu"].as_str()
}

/// The node our Ready entry pins the first pod set to.
pub fn pinned_node(workload: &Value) -> Option<&str> {
    entry(workload)?["podSetUpdates"][0]["nodeSelector"]["kubernetes.io/hostname"].as_str()
}

/// An annotation our Ready entry adds to the first pod set.
pub fn update_annotation<'a>(workload: &'a Value, key: &str) -> Option<&'a str> {
    entry(workload)?["podSetUpdates"][0]["annotations"][key].as_str()
}

/// The controller, run as a child process against the testbed.
pub struct Adapter {
    child: Child,
    /// Where it serves `/metrics`.
    pub metrics: SocketAddr,
    /// Its log file.
    pub log: PathBuf,
}

impl Adapter {
    /// Starts the adapter (`live-adapter` from this build) with the platform file `platform`,
    /// the policy `policy` and extra flags `extra`, logging to `<name>.log` in the scratch
    /// folder.
    pub fn start(bed: &Bed, name: &str, platform: &Path, policy: &str, extra: &[&str]) -> Adapter {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port");
        let log = bed.scratch.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("the adapter's log");
        let err = out.try_clone().expect("the adapter's log");
        let child = Command::new(env!("CARGO_BIN_EXE_live-adapter"))
            .arg("--platform")
            .arg(platform)
            .arg("--kubeconfig")
            .arg(bed.dir.join("kubeconfig"))
            .args(["--policy", policy])
            .args(["--metrics-address", &port.to_string()])
            .args(extra)
            .env("RUST_LOG", "info,live_adapter=debug")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start live-adapter");
        Adapter {
            child,
            metrics: port,
            log,
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it at once (SIGKILL), as a crash or an evicted pod would end it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether it still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The text of `/metrics`, or `None` while it does not answer.
    pub async fn scrape(&self) -> Option<String> {
        let address = self.metrics;
        tokio::task::spawn_blocking(move || http_get(address, "/metrics"))
            .await
            .ok()
            .flatten()
    }

    /// The sum of the samples of metric `name` whose labels contain `labels` (e.g.
    /// `state="Ready"`), or `None` while `/metrics` does not answer.
    pub async fn metric(&self, name: &str, labels: &str) -> Option<f64> {
        let text = self.scrape().await?;
        Some(sum_metric(&text, name, labels))
    }

    /// Waits until `/readyz` answers 200: every watch has listed and the core is built.
    pub async fn wait_ready(&mut self, limit: Duration) {
        let address = self.metrics;
        let log = self.log.clone();
        let deadline = Instant::now() + limit;
        loop {
            let ready = tokio::task::spawn_blocking(move || http_get(address, "/readyz"))
                .await
                .ok()
                .flatten()
                .is_some();
            if ready {
                return;
            }
            assert!(
                self.running(),
                "live-adapter exited; its log: {}",
                tail(&log)
            );
            assert!(
                Instant::now() < deadline,
                "live-adapter not ready after {limit:?}; its log: {}",
                tail(&log)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// CPU seconds (user + system) and peak resident memory in MiB, from /proc.
    pub fn usage(&self) -> Option<(f64, f64)> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
        let after = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let peak_kib: f64 = status
            .lines()
            .find(|line| line.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        // USER_HZ is 100 on Linux
        Some((ticks / 100.0, peak_kib / 1024.0))
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last lines of a log file.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(30);
    format!("{}:\n{}", path.display(), lines[from..].join("\n"))
}

/// A plain HTTP/1.0 GET on loopback: the body when the answer is 200.
fn http_get(address: SocketAddr, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    head.lines()
        .next()?
        .contains(" 200 ")
        .then(|| body.to_string())
}

/// The sum of the samples of `name` whose label set contains `labels`.
pub fn sum_metric(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest),
                None => (series, ""),
            };
            (metric == name && rest.contains(labels)).then(|| value.parse::<f64>().ok())?
        })
        .sum()
}
