//! `sim policy NAME`: the alloc-core [`Policy`] a sim policy name stands for, overrides
//! included, as the YAML file the live controller's `--policy FILE` reads, so a policy
//! measured here runs in a cluster unchanged. What the sim's shell adds to a policy — how
//! notebooks hold GPUs, the ClusterQueues' strategy — is not part of it: in a cluster the
//! Kueue objects and the notebook platform decide those, so they are named, not written.

use super::baseline::{baseline, Baseline};
use crate::engine::NotebookHold;
use crate::error::{Result, SimError};
use alloc_core::Policy;

/// A policy file's text, and what of the sim policy it leaves out.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFile {
    pub yaml: String,
    pub left_out: Vec<String>,
}

/// The policy file of `spec` (`name` or `name@key=value,…`, as `--policy` takes it).
pub fn policy_file(spec: &str) -> Result<PolicyFile> {
    let baseline = baseline(spec)?;
    let body = serde_norway::to_string(&baseline.policy).map_err(|e| SimError::BadArgument {
        flag: "policy".into(),
        reason: format!("{spec} cannot be written as YAML: {e}"),
    })?;
    let term_unset = needs_term(&baseline.policy);
    let term = if term_unset {
        "# burst.rescue.term is the budgets' term, which the sim sets to each run: set it to\n\
         # the department's ({start: <Unix ms>, over: <ms>}), or the rescue reserve stays\n\
         # whole and nothing is paced.\n"
    } else {
        ""
    };
    let yaml = format!(
        "# alloc-core's Policy for `sim --policy '{spec}'`, written by `sim policy`.\n\
         # `live-adapter --policy FILE` runs it, two-phase and without the core's own\n\
         # preemption: in a cluster Kueue reserves quota and preempts.\n{term}{body}"
    );
    let mut left_out = left_out(&baseline);
    if term_unset {
        left_out.push(
            "the budgets' term (burst.rescue.term), which the sim sets to each run: set it in \
             the file"
                .into(),
        );
    }
    Ok(PolicyFile { yaml, left_out })
}

/// Whether the rescue rule runs without a term: the sim gives it the run's.
fn needs_term(policy: &Policy) -> bool {
    policy
        .burst
        .rescue
        .as_ref()
        .is_some_and(|rescue| rescue.term.is_none())
}

fn left_out(baseline: &Baseline) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(strategy) = baseline.queueing {
        lines.push(format!(
            "the ClusterQueues' queueing strategy ({strategy:?}): set it on the ClusterQueues"
        ));
    }
    if baseline.notebook_hold == NotebookHold::WholeSession {
        lines.push("a whole GPU per notebook session: the notebook platform's choice".into());
    }
    if baseline.keep_alive.is_some()
        || baseline.warm_pool.is_some()
        || baseline.lease_on_open.is_some()
    {
        lines.push(
            "the notebook keep-alive, warm pool and lease on open: the sim's notebook model".into(),
        );
    }
    lines
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_file_reads_back_as_the_policy_the_sim_runs() {
        for spec in [
            "tiered-burst",
            "never-burst",
            "kueue-like",
            "tiered-burst@backfill=2,backfill-min-gpus=5,protect-deadlines=on,order=deadline-first",
            "starburst-gpus@packing=best-fit",
        ] {
            let file = policy_file(spec).unwrap();
            assert!(file.yaml.starts_with("# alloc-core's Policy"), "{spec}");
            assert_eq!(
                serde_norway::from_str::<Policy>(&file.yaml).unwrap(),
                baseline(spec).unwrap().policy,
                "{spec}"
            );
        }
    }

    #[test]
    fn what_is_not_a_policy_is_named() {
        let tiered = policy_file("tiered-burst").unwrap();
        assert_eq!(tiered.left_out.len(), 1, "{:?}", tiered.left_out);
        assert!(tiered.left_out[0].contains("term"));
        assert!(tiered
            .yaml
            .contains("# burst.rescue.term is the budgets' term"));
        assert!(policy_file("never-burst").unwrap().left_out.is_empty());
        let fifo = policy_file("fifo").unwrap().left_out;
        assert!(fifo[0].contains("StrictFIFO"), "{fifo:?}");
        let notebooks = policy_file("tiered-burst@keep-alive=5m").unwrap().left_out;
        assert!(notebooks[0].contains("keep-alive"), "{notebooks:?}");
        let static_notebook = policy_file("static-notebook").unwrap().left_out;
        assert!(
            static_notebook
                .iter()
                .any(|line| line.contains("whole GPU")),
            "{static_notebook:?}"
        );
        assert!(policy_file("no-such-policy").is_err());
    }
}
