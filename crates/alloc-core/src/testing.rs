//! Builders that make tests read like specs. For tests and examples (here, in the sim and in
//! the live adapter); they panic on contradictory input instead of returning errors. Behind
//! the `testing` feature, so that no shell builds them into a binary: crates that use them
//! turn it on in their dev-dependencies (alloc-core's own tests through a dev-dependency on
//! itself).
//!
//! Conventions: the private cluster is `private`, the public one `cloud`; a flavor `f` selects
//! nodes labelled `gpu.flavor=f`; every ClusterQueue `q` gets a LocalQueue also named `q`; CPU and
//! memory quotas are effectively unlimited unless a test sets them.

use crate::ids::*;
use crate::model::*;
use crate::units::*;
use std::collections::{BTreeMap, BTreeSet};

/// The label a test flavor selects nodes by.
pub const FLAVOR_LABEL: &str = "gpu.flavor";
const PLENTY: u64 = 1 << 40;

/// A [`Config`] in a few lines: GPU models, flavors, queues, tenants, users and offers, each
/// added by one call.
pub struct ConfigBuilder {
    models: Vec<GpuModel>,
    flavors: Vec<Flavor>,
    queues: Vec<ClusterQueue>,
    tenants: Vec<Tenant>,
    users: Vec<User>,
    offers: Vec<Offer>,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigBuilder {
    /// Starts with GPU models V100 (16 GiB, MPS 16), T4 (16 GiB, 0.6× speed, MPS 48) and
    /// A100 (80 GiB, 2× speed, MPS 48).
    pub fn new() -> Self {
        let model = |name: &str, vram: u64, speed: u32, mps: u32| GpuModel {
            name: GpuModelName::new(name),
            vram: VramMib(vram),
            speed_permille: speed,
            max_mps_clients: mps,
        };
        ConfigBuilder {
            models: vec![
                model("V100", 16_384, 1000, 16),
                model("T4", 16_384, 600, 48),
                model("A100", 81_920, 2000, 48),
            ],
            flavors: Vec::new(),
            queues: Vec::new(),
            tenants: Vec::new(),
            users: Vec::new(),
            offers: Vec::new(),
        }
    }

    /// Adds `model`, replacing a model of the same name.
    pub fn gpu_model(mut self, model: GpuModel) -> Self {
        self.models.retain(|m| m.name != model.name);
        self.models.push(model);
        self
    }

    fn flavor(mut self, name: &str, tier: Tier, cluster: &str) -> Self {
        self.flavors.push(Flavor {
            name: FlavorName::new(name),
            tier,
            cluster: ClusterName::new(cluster),
            node_labels: BTreeMap::from([(FLAVOR_LABEL.to_string(), name.to_string())]),
            gpu_model: None,
        });
        self
    }

    /// A flavor of the private cluster selecting nodes labelled with its name.
    pub fn private_flavor(self, name: &str, tier: Tier) -> Self {
        self.flavor(name, tier, "private")
    }

    /// A public flavor with an offer of A100s at 1.00 per GPU-hour, ready at once, at most 64
    /// GPUs at a time: see [`ConfigBuilder::offer`] to choose.
    pub fn public_flavor(self, name: &str, tier: Tier) -> Self {
        self.offer(name, tier, "A100", 1, 0, 64)
    }

    /// A public offer with its own flavor `name` in cluster `cloud`: `model` GPUs at
    /// `price_per_gpu_hour` (whole currency units), ready `latency_minutes` after a burst,
    /// at most `cap` GPUs at once.
    pub fn offer(
        mut self,
        name: &str,
        tier: Tier,
        model: &str,
        price_per_gpu_hour: i64,
        latency_minutes: u64,
        cap: u32,
    ) -> Self {
        self = self.flavor(name, tier, "cloud");
        if let Some(flavor) = self.flavors.last_mut() {
            flavor.gpu_model = Some(GpuModelName::new(model));
        }
        self.offers.push(Offer {
            flavor: FlavorName::new(name),
            gpu_model: GpuModelName::new(model),
            price_per_gpu_hour: Money::units(price_per_gpu_hour),
            provisioning_latency: Millis::minutes(latency_minutes),
            gpu_cap: cap,
            scale_down_after: Millis::ZERO,
        });
        self
    }

    /// Keeps the last offer's rented nodes warm (and billed) `minutes` after their job ends.
    pub fn scale_down_after(mut self, minutes: u64) -> Self {
        if let Some(offer) = self.offers.last_mut() {
            offer.scale_down_after = Millis::minutes(minutes);
        }
        self
    }

    /// Sets the public budget of tenant `name` (added earlier with `tenant`).
    pub fn tenant_public_budget(mut self, name: &str, budget: i64) -> Self {
        if let Some(tenant) = self.tenants.iter_mut().find(|t| t.name.as_str() == name) {
            tenant.public_budget = Some(Money::units(budget));
        }
        self
    }

    /// A ClusterQueue without cohort; `quotas` are GPU quotas in milli-GPU.
    pub fn queue(self, name: &str, quotas: &[(&str, Quota)]) -> Self {
        self.cluster_queue(name, None, quotas)
    }

    /// A ClusterQueue in `cohort`; `quotas` are GPU quotas in milli-GPU.
    pub fn queue_in_cohort(self, name: &str, cohort: &str, quotas: &[(&str, Quota)]) -> Self {
        self.cluster_queue(name, Some(cohort), quotas)
    }

    fn cluster_queue(mut self, name: &str, cohort: Option<&str>, quotas: &[(&str, Quota)]) -> Self {
        let flavors = quotas
            .iter()
            .map(|(flavor, gpu)| FlavorQuotas {
                flavor: FlavorName::new(*flavor),
                resources: BTreeMap::from([
                    (Resource::Gpu, *gpu),
                    (Resource::Cpu, Quota::nominal(PLENTY)),
                    (Resource::Memory, Quota::nominal(PLENTY)),
                ]),
            })
            .collect();
        self.queues.push(ClusterQueue {
            name: QueueName::new(name),
            cohort: cohort.map(CohortName::new),
            strategy: QueueingStrategy::BestEffortFIFO,
            flavors,
            fungibility: FlavorFungibility::default(),
            preemption: None,
        });
        self
    }

    /// Changes the last queue added.
    pub fn strict_fifo(mut self) -> Self {
        if let Some(queue) = self.queues.last_mut() {
            queue.strategy = QueueingStrategy::StrictFIFO;
        }
        self
    }

    /// Changes the last queue added.
    pub fn when_can_borrow(mut self, choice: WhenCanBorrow) -> Self {
        if let Some(queue) = self.queues.last_mut() {
            queue.fungibility.when_can_borrow = choice;
        }
        self
    }

    /// A tenant with weight 1 and no public budget; `None` = no cap.
    pub fn tenant(
        mut self,
        name: &str,
        max_running_jobs: Option<u32>,
        max_gpus: Option<MilliGpu>,
    ) -> Self {
        self.tenants.push(Tenant {
            name: TenantName::new(name),
            weight: 1,
            max_running_jobs,
            max_gpus,
            public_budget: None,
        });
        self
    }

    /// A user of `tenant`; `None` = no cap.
    pub fn user(
        mut self,
        name: &str,
        tenant: &str,
        max_running_jobs: Option<u32>,
        max_gpus: Option<MilliGpu>,
    ) -> Self {
        self.users.push(User {
            name: UserName::new(name),
            tenant: TenantName::new(tenant),
            max_running_jobs,
            max_gpus,
        });
        self
    }

    /// The config, or why it is invalid: for tests of the validation itself.
    pub fn try_build(self) -> Result<Config, crate::ConfigError> {
        let clusters = vec![
            Cluster::private("private"),
            Cluster::public("cloud", self.offers),
        ];
        let locals = self
            .queues
            .iter()
            .map(|q| LocalQueue {
                name: LocalQueueName::new(q.name.as_str()),
                cluster_queue: q.name.clone(),
            })
            .collect();
        Config::new(
            self.models,
            clusters,
            self.flavors,
            self.queues,
            locals,
            self.tenants,
            self.users,
        )
    }

    /// The config; panics if it is invalid.
    pub fn build(self) -> Config {
        match self.try_build() {
            Ok(config) => config,
            Err(error) => panic!("test config is invalid: {error}"),
        }
    }
}

/// A node of a test flavor: 64 cores, 512 GiB, V100s unless told otherwise.
pub struct NodeBuilder(NodeSpec);

impl NodeBuilder {
    /// A private node `name` of `flavor` with `gpus` GPUs.
    pub fn new(name: &str, flavor: &str, gpus: u32) -> Self {
        NodeBuilder(NodeSpec {
            name: NodeName::new(name),
            cluster: ClusterName::new("private"),
            labels: BTreeMap::from([(FLAVOR_LABEL.to_string(), flavor.to_string())]),
            cpu: CpuMilli(64_000),
            memory: MemMib(512 * 1024),
            gpu_model: (gpus > 0).then(|| GpuModelName::new("V100")),
            gpus,
        })
    }

    /// Its GPUs are `model`s.
    pub fn model(mut self, model: &str) -> Self {
        self.0.gpu_model = Some(GpuModelName::new(model));
        self
    }

    /// In cluster `cloud`: for tests of what the core refuses there.
    pub fn public(mut self) -> Self {
        self.0.cluster = ClusterName::new("cloud");
        self
    }

    /// Allocatable CPU in millicores.
    pub fn cpu(mut self, cpu: u64) -> Self {
        self.0.cpu = CpuMilli(cpu);
        self
    }

    /// Allocatable memory in MiB.
    pub fn memory(mut self, memory: u64) -> Self {
        self.0.memory = MemMib(memory);
        self
    }

    /// The node spec, for `Input::NodeAdded`.
    pub fn build(self) -> NodeSpec {
        self.0
    }
}

/// A job in queue `q` of user `alice` in tenant `lab`: 1 core, 4 GiB, one hour, BRONZE.
pub struct JobBuilder(Job);

impl JobBuilder {
    fn with(gpu: GpuRequest) -> Self {
        JobBuilder(Job {
            id: JobId(1),
            queue: LocalQueueName::new("q"),
            tenant: TenantName::new("lab"),
            user: UserName::new("alice"),
            gpu,
            spread: false,
            cpu: CpuMilli(1000),
            memory: MemMib(4096),
            min_tier: Tier::Bronze,
            allow_upgrade: false,
            allowed_flavors: None,
            gpu_models: None,
            priority: 0,
            runtime: Millis::hours(1),
            deadline: None,
            budget: Budget::default(),
            burstable: false,
            data_class: DataClass::Internal,
            checkpoint_interval: None,
            restore_cost: Millis::ZERO,
            submit_time: Time::ZERO,
        })
    }

    /// A job on `count` whole GPUs.
    pub fn gpus(count: u32) -> Self {
        Self::with(GpuRequest::Whole {
            count,
            min_vram: VramMib::ZERO,
        })
    }

    /// A job on an MPS share: `milli` of one GPU and `vram` MiB.
    pub fn fraction(milli: u64, vram: u64) -> Self {
        Self::with(GpuRequest::Fraction {
            milli: MilliGpu(milli),
            vram: VramMib(vram),
        })
    }

    /// A job without GPUs.
    pub fn cpu_only() -> Self {
        Self::with(GpuRequest::None)
    }

    /// Its id (default 1).
    pub fn id(mut self, id: u64) -> Self {
        self.0.id = JobId(id);
        self
    }
    /// Its LocalQueue (default `q`).
    pub fn queue(mut self, queue: &str) -> Self {
        self.0.queue = LocalQueueName::new(queue);
        self
    }
    /// Its user and the user's tenant.
    pub fn user(mut self, user: &str, tenant: &str) -> Self {
        self.0.user = UserName::new(user);
        self.0.tenant = TenantName::new(tenant);
        self
    }
    /// The lowest tier it may run on.
    pub fn tier(mut self, tier: Tier) -> Self {
        self.0.min_tier = tier;
        self
    }
    /// Lets it run on higher tiers.
    pub fn allow_upgrade(mut self) -> Self {
        self.0.allow_upgrade = true;
        self
    }
    /// Its priority (default 0).
    pub fn priority(mut self, priority: i32) -> Self {
        self.0.priority = priority;
        self
    }
    /// Its submit time (default 0).
    pub fn submitted(mut self, at: Time) -> Self {
        self.0.submit_time = at;
        self
    }
    /// Its data may not leave the private fleet.
    pub fn sensitive(mut self) -> Self {
        self.0.data_class = DataClass::Sensitive;
        self
    }
    /// Its GPUs may come from several nodes.
    pub fn spread(mut self) -> Self {
        self.0.spread = true;
        self
    }
    /// CPU in millicores.
    pub fn cpu(mut self, cpu: u64) -> Self {
        self.0.cpu = CpuMilli(cpu);
        self
    }
    /// Memory in MiB.
    pub fn memory(mut self, memory: u64) -> Self {
        self.0.memory = MemMib(memory);
        self
    }
    /// The only flavors it accepts.
    pub fn only_flavors(mut self, flavors: &[&str]) -> Self {
        self.0.allowed_flavors = Some(
            flavors
                .iter()
                .map(|f| FlavorName::new(*f))
                .collect::<BTreeSet<_>>(),
        );
        self
    }
    /// The only GPU models it accepts.
    pub fn models(mut self, models: &[&str]) -> Self {
        self.0.gpu_models = Some(
            models
                .iter()
                .map(|m| GpuModelName::new(*m))
                .collect::<BTreeSet<_>>(),
        );
        self
    }
    /// Its runtime on the reference GPU (default one hour).
    pub fn runtime(mut self, runtime: Millis) -> Self {
        self.0.runtime = runtime;
        self
    }
    /// Its deadline.
    pub fn deadline(mut self, at: Time) -> Self {
        self.0.deadline = Some(at);
        self
    }
    /// It asks to burst.
    pub fn burstable(mut self) -> Self {
        self.0.burstable = true;
        self
    }
    /// A budget of `limit` whole currency units.
    pub fn budget(mut self, kind: BudgetKind, limit: i64) -> Self {
        self.0.budget = Budget {
            kind,
            limit: Some(Money::units(limit)),
        };
        self
    }
    /// The job, for `Input::JobSubmitted`.
    pub fn build(self) -> Job {
        self.0
    }
}

/// One cycle that decides every pending job afresh, keeping none of the answers
/// [`Scheduler::cycle`](crate::Scheduler::cycle) reuses between the jobs of a cycle: the reference `cycle` must equal,
/// decision for decision. Slower; for tests.
pub fn cycle_without_memo(scheduler: &mut crate::Scheduler, now: Time) -> Vec<crate::Decision> {
    scheduler.cycle_without_memo(now)
}

/// A reservation (`Policy::backfill`) as a cycle left it: the job, the node reserved for it and
/// when its GPUs are expected free there (never before the cycle that planned it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserved {
    /// The job that holds the reservation.
    pub job: crate::JobId,
    /// The reserved node.
    pub node: crate::NodeName,
    /// When the node is expected to have the job's GPUs free.
    pub start: Time,
}

/// [`Scheduler::decide_all`](crate::Scheduler::decide_all), with the reservations still held
/// at the end of the cycle.
pub fn decide_all_with_reservations(
    scheduler: &mut crate::Scheduler,
    now: Time,
) -> (Vec<crate::Decision>, Vec<Reserved>) {
    scheduler.decide_all_with_reservations(now)
}

/// The pending jobs holding a reservation after the last cycle, in the order they got it: the
/// next cycle decides them first.
pub fn reserved_jobs(scheduler: &crate::Scheduler) -> Vec<crate::JobId> {
    scheduler.reservations.jobs().collect()
}
