//! Fleet files built from published machine lists, so the twin can run on real fleet shapes.
//!
//! | format | file | columns used | assumptions |
//! |---|---|---|---|
//! | `openb` | `alibaba-openb/openb_node_list_*.csv` | `sn`, `cpu_milli`, `memory_mib`, `gpu`, `model` | none |
//! | `pai2020` | `alibaba-pai2020-machines/pai_machine_spec.csv` (no header) | machine, gpu_type, cap_cpu (cores), cap_mem (GB), cap_gpu | GB read as GiB |
//! | `spot2026` | `alibaba-spot2026-nodes/node_info_df.csv` | `gpu_model`, `gpu_capacity_num`, `cpu_num`, `node_name` | no memory column: 8 GiB per vCPU |
//! | `philly` | `philly-machines/cluster_machine_list` | machineId, number of GPUs, single GPU mem | no CPU or memory: 6 cores and 64 GiB per GPU; the model is named by its memory (`Philly-12GB`, `Philly-24GB`) |
//!
//! Machines without GPUs are dropped (counted). Identical machines are grouped into one node
//! group. Every GPU model gets one flavor (label `gpu.model`). With [`Tiers::Generation`] its
//! tier is by generation — GOLD: A100/A800/H100/H800; SILVER: V100*, A10, G2, G3, 24 GB Philly
//! GPUs; BRONZE: the rest; tiers are then shifted up together until the best model present is
//! GOLD (Philly: 24 GB GOLD, 12 GB SILVER); with [`Tiers::Flat`] every flavor gets one tier
//! (see [`super::replay`] for when). One ClusterQueue `default` (LocalQueue `default`) has the
//! whole fleet as nominal quota and lists the flavors fastest first (catalog speed, then name).
//! Speeds are the reference 1000‰ for every model with [`Speeds::Recorded`] (the default: a
//! trace's durations are kept), the catalog's with [`Speeds::Catalog`].
//! VRAM and relative speed come from a table of known models; the opaque codes of the
//! published lists (`MISC`, `GPU-series-1`, `GPU-series-2`) are taken as 16 GiB at 1.0×, and
//! any other code is refused, naming its line.

use super::replay::{BuildOptions, Speeds, Tiers};
use super::{FleetFile, NodeGroup};
use crate::error::{Result, SimError};
use alloc_core::{
    Cluster, ClusterName, ClusterQueue, CpuMilli, Flavor, FlavorName, FlavorQuotas, GpuModel,
    GpuModelName, LocalQueue, LocalQueueName, MemMib, QueueName, Quota, Resource, Tier, VramMib,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineList {
    Openb,
    Pai2020,
    Spot2026,
    Philly,
}

impl FromStr for MachineList {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text {
            "openb" => Ok(MachineList::Openb),
            "pai2020" => Ok(MachineList::Pai2020),
            "spot2026" => Ok(MachineList::Spot2026),
            "philly" => Ok(MachineList::Philly),
            other => Err(format!(
                "unknown machine list {other:?}; known: openb, pai2020, spot2026, philly"
            )),
        }
    }
}

/// One machine as read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Machine {
    model: String,
    gpus: u32,
    cpu_milli: u64,
    memory_mib: u64,
}

/// A built fleet and what was left out.
pub struct BuiltFleet {
    pub fleet: FleetFile,
    pub machines: u64,
    pub gpus: u64,
    pub dropped_without_gpu: u64,
}

pub fn build(format: MachineList, path: &Path, options: BuildOptions) -> Result<BuiltFleet> {
    let machines = read(format, path)?;
    let total = machines.len() as u64;
    let with_gpu: Vec<Machine> = machines
        .into_iter()
        .filter(|m| m.gpus > 0 && !m.model.is_empty())
        .collect();
    let dropped = total - with_gpu.len() as u64;
    if with_gpu.is_empty() {
        return Err(SimError::Refused {
            place: path.display().to_string(),
            reason: format!(
                "no machine with GPUs among the {total} listed: the fleet would have no GPU"
            ),
            hint: "check --from (openb, pai2020, spot2026, philly) and the file: a header \
                   alone makes no fleet",
        });
    }
    let gpus = with_gpu.iter().map(|m| u64::from(m.gpus)).sum();
    Ok(BuiltFleet {
        fleet: assemble(&with_gpu, options),
        machines: total,
        gpus,
        dropped_without_gpu: dropped,
    })
}

fn read(format: MachineList, path: &Path) -> Result<Vec<Machine>> {
    let has_header = format != MachineList::Pai2020;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(has_header)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| SimError::io(path, std::io::Error::other(e)))?;
    let mut machines = Vec::new();
    let mut names: BTreeMap<String, u64> = BTreeMap::new();
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + if has_header { 2 } else { 1 };
        let record = record.map_err(|e| SimError::BadMachine {
            path: path.to_path_buf(),
            line,
            field: "(row)".into(),
            reason: e.to_string(),
        })?;
        let field = |column: usize, name: &str| -> Result<&str> {
            record.get(column).ok_or_else(|| SimError::BadMachine {
                path: path.to_path_buf(),
                line,
                field: name.into(),
                reason: "missing column".into(),
            })
        };
        let number = |column: usize, name: &str| -> Result<u64> {
            let text = field(column, name)?;
            text.trim_end_matches("GB")
                .trim()
                .parse()
                .map_err(|_| SimError::BadMachine {
                    path: path.to_path_buf(),
                    line,
                    field: name.into(),
                    reason: format!("expected a whole number, got {text:?}"),
                })
        };
        let name_column = match format {
            MachineList::Spot2026 => 3,
            _ => 0,
        };
        let name = field(name_column, "name")?.to_string();
        if let Some(first) = names.insert(name.clone(), line) {
            return Err(SimError::BadMachine {
                path: path.to_path_buf(),
                line,
                field: "name".into(),
                reason: format!("machine {name:?} is already listed on line {first}"),
            });
        }
        let gpus = |column: usize, name: &str| -> Result<u32> {
            let count = number(column, name)?;
            u32::try_from(count)
                .ok()
                .filter(|&count| count <= crate::limits::MAX_GPUS_PER_NODE)
                .ok_or_else(|| SimError::BadMachine {
                    path: path.to_path_buf(),
                    line,
                    field: name.into(),
                    reason: format!(
                        "{count} GPUs is more than one machine may carry ({})",
                        crate::limits::MAX_GPUS_PER_NODE
                    ),
                })
        };
        let machine = match format {
            MachineList::Openb => Machine {
                cpu_milli: number(1, "cpu_milli")?,
                memory_mib: number(2, "memory_mib")?,
                gpus: gpus(3, "gpu")?,
                model: field(4, "model")?.to_string(),
            },
            MachineList::Pai2020 => {
                let model = field(1, "gpu_type")?;
                Machine {
                    model: if model == "CPU" {
                        String::new()
                    } else {
                        model.to_string()
                    },
                    cpu_milli: number(2, "cap_cpu")? * 1000,
                    memory_mib: number(3, "cap_mem")? * 1024,
                    gpus: gpus(4, "cap_gpu")?,
                }
            }
            MachineList::Spot2026 => {
                let cpus = number(2, "cpu_num")?;
                Machine {
                    model: field(0, "gpu_model")?.to_string(),
                    gpus: gpus(1, "gpu_capacity_num")?,
                    cpu_milli: cpus * 1000,
                    memory_mib: cpus * 8 * 1024,
                }
            }
            MachineList::Philly => {
                let gpus = gpus(1, "number of GPUs")?;
                let memory = number(2, "single GPU mem")?;
                Machine {
                    model: format!("Philly-{memory}GB"),
                    gpus,
                    cpu_milli: u64::from(gpus) * 6000,
                    memory_mib: u64::from(gpus) * 64 * 1024,
                }
            }
        };
        if machine.gpus > 0 && !machine.model.is_empty() && profile(&machine.model).is_none() {
            return Err(SimError::BadMachine {
                path: path.to_path_buf(),
                line,
                field: "model".into(),
                reason: format!(
                    "unknown GPU model {:?}: its VRAM and speed are not known (known: {})",
                    machine.model,
                    KNOWN_MODELS.join(", ")
                ),
            });
        }
        machines.push(machine);
    }
    Ok(machines)
}

/// Every model code [`profile`] knows, for messages.
const KNOWN_MODELS: [&str; 17] = [
    "A100-SXM4-80GB",
    "A800-SXM4-80GB",
    "H800",
    "H100",
    "V100M32",
    "V100",
    "V100M16",
    "A10",
    "G2",
    "G3",
    "T4",
    "P100",
    "Philly-24GB",
    "Philly-12GB",
    "MISC",
    "GPU-series-1",
    "GPU-series-2",
];

/// (VRAM MiB, speed ‰, MPS clients, tier) of a model code; `None` for a code not known.
/// The published lists name some models only by an opaque code (PAI 2020's `MISC`, spot
/// 2026's `GPU-series-1` and `-2`): those are taken as 16 GiB at the reference speed, an
/// assumption written here rather than made for any unknown code.
fn profile(model: &str) -> Option<(u64, u32, u32, Tier)> {
    Some(match model {
        "A100-SXM4-80GB" | "A800-SXM4-80GB" => (81_920, 2200, 48, Tier::Gold),
        "H800" | "H100" => (81_920, 3500, 48, Tier::Gold),
        "V100M32" => (32_768, 1000, 16, Tier::Silver),
        "V100" | "V100M16" => (16_384, 1000, 16, Tier::Silver),
        "A10" => (24_576, 1100, 48, Tier::Silver),
        "G2" | "G3" => (16_384, 1000, 48, Tier::Silver),
        "T4" => (16_384, 600, 48, Tier::Bronze),
        "P100" => (16_384, 600, 16, Tier::Bronze),
        "Philly-24GB" => (24_576, 700, 16, Tier::Silver),
        "Philly-12GB" => (12_288, 400, 16, Tier::Bronze),
        "MISC" | "GPU-series-1" | "GPU-series-2" => (16_384, 1000, 16, Tier::Bronze),
        _ => return None,
    })
}

fn tier_rank(tier: Tier) -> u8 {
    match tier {
        Tier::Bronze => 0,
        Tier::Silver => 1,
        Tier::Gold => 2,
    }
}

fn shift_up(tier: Tier, steps: u8) -> Tier {
    match tier_rank(tier) + steps {
        0 => Tier::Bronze,
        1 => Tier::Silver,
        _ => Tier::Gold,
    }
}

fn assemble(machines: &[Machine], options: BuildOptions) -> FleetFile {
    let cluster = ClusterName::new("private");
    let mut groups: BTreeMap<&Machine, u32> = BTreeMap::new();
    for machine in machines {
        *groups.entry(machine).or_default() += 1;
    }
    let mut capacity: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for machine in machines {
        let entry = capacity.entry(&machine.model).or_default();
        entry.0 += u64::from(machine.gpus) * 1000;
        entry.1 += machine.cpu_milli;
        entry.2 += machine.memory_mib;
    }
    let flavor_name = |model: &str| FlavorName::new(model.to_lowercase());
    let best = capacity
        .keys()
        .filter_map(|model| profile(model).map(|p| p.3))
        .max()
        .unwrap_or(Tier::Gold);
    let unknown = (16_384, 1000, 16, Tier::Bronze);
    let profile = |model: &str| profile(model).unwrap_or(unknown);
    let tier_of = |model: &str| match options.tiers {
        Tiers::Generation => shift_up(profile(model).3, tier_rank(Tier::Gold) - tier_rank(best)),
        Tiers::Flat(tier) => tier,
    };
    let gpu_models = capacity
        .keys()
        .map(|model| {
            let (vram, speed, mps, _) = profile(model);
            GpuModel {
                name: GpuModelName::new(*model),
                vram: VramMib(vram),
                speed_permille: match options.speeds {
                    Speeds::Recorded => 1000,
                    Speeds::Catalog => speed,
                },
                max_mps_clients: mps,
            }
        })
        .collect();
    let flavors = capacity
        .keys()
        .map(|model| Flavor {
            name: flavor_name(model),
            tier: tier_of(model),
            cluster: cluster.clone(),
            node_labels: BTreeMap::from([("gpu.model".to_string(), model.to_string())]),
            gpu_model: Some(GpuModelName::new(*model)),
        })
        .collect();
    // Fastest first (catalog speed, then name): the order a job is offered flavors within a tier.
    let mut fastest_first: Vec<(&&str, &(u64, u64, u64))> = capacity.iter().collect();
    fastest_first.sort_by_key(|(model, _)| (std::cmp::Reverse(profile(model).1), **model));
    let quotas = fastest_first
        .into_iter()
        .map(|(model, (gpu, cpu, memory))| FlavorQuotas {
            flavor: flavor_name(model),
            resources: BTreeMap::from([
                (Resource::Gpu, Quota::nominal(*gpu)),
                (Resource::Cpu, Quota::nominal(*cpu)),
                (Resource::Memory, Quota::nominal(*memory)),
            ]),
        })
        .collect();
    let nodes = groups
        .iter()
        .map(|(machine, count)| NodeGroup {
            name: format!(
                "{}-{}g-{}c-{}g",
                machine.model.to_lowercase(),
                machine.gpus,
                machine.cpu_milli / 1000,
                machine.memory_mib / 1024
            ),
            count: *count,
            cluster: cluster.clone(),
            labels: BTreeMap::from([("gpu.model".to_string(), machine.model.clone())]),
            cpu: CpuMilli(machine.cpu_milli),
            memory: MemMib(machine.memory_mib),
            gpu_model: Some(GpuModelName::new(machine.model.as_str())),
            gpus: machine.gpus,
        })
        .collect();
    FleetFile {
        gpu_models,
        clusters: vec![Cluster::private(cluster.as_str())],
        flavors,
        cluster_queues: vec![ClusterQueue {
            name: QueueName::new("default"),
            cohort: None,
            strategy: Default::default(),
            flavors: quotas,
            fungibility: Default::default(),
            preemption: None,
        }],
        local_queues: vec![LocalQueue {
            name: LocalQueueName::new("default"),
            cluster_queue: QueueName::new("default"),
        }],
        tenants: Vec::new(),
        users: Vec::new(),
        nodes,
        failures: None,
        start_latency: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openb_rows_group_into_node_groups_and_flavors() {
        let dir = std::env::temp_dir().join(format!("sim-machines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let path = dir.join("nodes.csv");
        let text = "sn,cpu_milli,memory_mib,gpu,model\nn0,64000,262144,2,P100\nn1,64000,262144,2,P100\nn2,96000,393216,8,G2\nn3,32000,65536,0,\n";
        std::fs::write(&path, text).ok();
        let built = build(MachineList::Openb, &path, BuildOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (built.machines, built.gpus, built.dropped_without_gpu),
            (4, 12, 1)
        );
        assert_eq!(built.fleet.nodes.len(), 2);
        assert_eq!(built.fleet.nodes.iter().map(|g| g.count).sum::<u32>(), 3);
        let (config, nodes) = built.fleet.resolve(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(nodes.len(), 3);
        // No GOLD model in this fleet: tiers shift up one, so G2 is GOLD and P100 SILVER.
        assert_eq!(config.flavors[&FlavorName::new("g2")].tier, Tier::Gold);
        assert_eq!(config.flavors[&FlavorName::new("p100")].tier, Tier::Silver);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_bad_number_names_line_and_column() {
        let dir = std::env::temp_dir().join(format!("sim-machines-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let path = dir.join("spot.csv");
        std::fs::write(
            &path,
            "gpu_model,gpu_capacity_num,cpu_num,node_name\nA10,1,96,0\nA10,one,96,1\n",
        )
        .ok();
        match build(MachineList::Spot2026, &path, BuildOptions::default()) {
            Err(SimError::BadMachine { line, field, .. }) => {
                assert_eq!((line, field.as_str()), (3, "gpu_capacity_num"))
            }
            other => panic!("expected a bad row, got {:?}", other.map(|b| b.machines)),
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
