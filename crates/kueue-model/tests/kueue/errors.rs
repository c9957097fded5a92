//! Every refusal names the file line, the object and the field.

use super::*;
use std::path::Path;

#[test]
fn unknown_spec_fields_are_named() {
    let text = SETUP.replace(
        "  queueingStrategy: StrictFIFO",
        "  queueingStrategy: StrictFIFO\n  priority: 3",
    );
    let (line, field, reason) = refused(&text);
    assert_eq!(line, 36);
    assert_eq!(field, "ClusterQueue/lab-a: spec.priority");
    assert!(reason.contains("unknown field `priority`"), "{reason}");
}

#[test]
fn bad_quantities_name_their_field_and_line() {
    let (line, field, reason) = refused(&SETUP.replace("nominalQuota: 16Gi", "nominalQuota: 16GB"));
    assert_eq!(line, 44);
    assert_eq!(
        field,
        "ClusterQueue/lab-a: spec.resourceGroups[0].flavors[0].resources[1].nominalQuota"
    );
    assert!(reason.contains("unknown suffix"), "{reason}");
    // In the second flavor of the list form, one level deeper.
    let text = super::as_list(
        &SETUP.replace("nominalQuota: 4\n  flavor", "nominalQuota: -4\n  flavor"),
        true,
    );
    let (line, field, reason) = refused(&text);
    assert_eq!(
        field,
        "ClusterQueue/lab-a: spec.resourceGroups[0].flavors[1].resources[0].nominalQuota"
    );
    assert!(reason.contains("negative"), "{reason}");
    let expected = text.lines().position(|l| l.ends_with("nominalQuota: -4"));
    assert_eq!(Some(line as usize - 1), expected, "{text}");
    // A semantic error (found by walking the text) in the plain list form.
    let text = super::as_list(
        &SETUP.replace("lendingLimit: 1\n", "lendingLimit: 3\n"),
        false,
    );
    let (line, field, reason) = refused(&text);
    assert!(
        field.ends_with("flavors[0].resources[2].lendingLimit"),
        "{field}"
    );
    assert!(reason.contains("must not exceed nominalQuota"), "{reason}");
    let expected = text.lines().position(|l| l.ends_with("lendingLimit: 3"));
    assert_eq!(Some(line as usize - 1), expected, "{text}");
}

#[test]
fn unsupported_kinds_name_kind_line_and_document() {
    let text = format!(
        "{SETUP}---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: AdmissionCheck\nmetadata:\n  \
         name: check\nspec:\n  controllerName: example.com/check\n"
    );
    let (line, field, reason) = refused(&text);
    assert_eq!(line, SETUP.lines().count() as u64 + 3);
    assert_eq!(field, "AdmissionCheck/check: kind");
    assert!(reason.contains("document 9"), "{reason}");
    assert!(
        reason.contains("kind AdmissionCheck is not supported"),
        "{reason}"
    );
    let (_, _, reason) = refused("apiVersion: kueue.x-k8s.io/v1beta2\nkind: WorkloadPriorityClass\nmetadata: {name: p}\nvalue: 1\n");
    assert!(reason.contains("WorkloadPriorityClass"), "{reason}");
}

#[test]
fn hierarchical_cohorts_and_cohort_quota_are_refused() {
    let cohort =
        "apiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata:\n  name: lab\nspec:\n";
    let (line, field, reason) = refused(&format!("{cohort}  parentName: department\n"));
    assert_eq!((line, field.as_str()), (6, "Cohort/lab: spec.parentName"));
    assert!(
        reason.contains("hierarchical cohorts are not supported"),
        "{reason}"
    );
    let quota =
        "  resourceGroups:\n  - coveredResources: [cpu]\n    flavors:\n    - name: f\n      \
                 resources:\n      - name: cpu\n        nominalQuota: 0\n        lendingLimit: 2\n";
    let (line, field, reason) = refused(&format!("{cohort}{quota}"));
    assert_eq!(line, 13);
    assert_eq!(
        field,
        "Cohort/lab: spec.resourceGroups[0].flavors[0].resources[0].lendingLimit"
    );
    assert!(reason.contains("Cohort's own quota"), "{reason}");
}

#[test]
fn unmodelled_features_are_refused_by_name() {
    for (from, to, expected) in [
        (
            "namespaceSelector: {}",
            "namespaceSelector: {matchLabels: {a: b}}",
            "spec.namespaceSelector",
        ),
        (
            "queueingStrategy: StrictFIFO",
            "stopPolicy: Hold",
            "spec.stopPolicy",
        ),
        (
            "whenCanBorrow: TryNextFlavor",
            "preference: BorrowingOverPreemption",
            "spec.flavorFungibility.preference",
        ),
        (
            "whenCanBorrow: TryNextFlavor",
            "whenCanBorrow: Borrow",
            "spec.flavorFungibility.whenCanBorrow",
        ),
        (
            "  name: a30\n---",
            "  name: a30\nspec:\n  topologyName: rack\n---",
            "spec.topologyName",
        ),
        (
            "      - name: cpu\n",
            "      - name: pods\n",
            "resources[0]",
        ),
    ] {
        let text = SETUP.replace(from, to);
        assert_ne!(text, SETUP, "{from}");
        let (line, field, reason) = refused(&text);
        assert!(field.ends_with(expected), "{field} for {to}: {reason}");
        assert!(line > 1, "{field}");
    }
}

#[test]
fn names_defined_twice_are_refused() {
    let text = SETUP.replace("name: queue-b", "name: queue-a");
    let (line, field, reason) = refused(&text);
    assert_eq!(field, "LocalQueue/queue-a: metadata.name");
    assert_eq!(line, SETUP.lines().count() as u64 - 2);
    assert!(reason.contains("namespaces lab-a and default"), "{reason}");
    let (_, field, _) = refused(&SETUP.replace("name: a30\n---", "name: v100\n---"));
    assert_eq!(field, "ResourceFlavor/v100: metadata.name");
}

#[test]
fn yaml_syntax_errors_give_the_file_line() {
    let text = format!("{SETUP}---\nkind: a: b\n");
    let (line, _, _) = refused(&text);
    assert_eq!(line, SETUP.lines().count() as u64 + 2);
}

/// Kueue's published examples: files of supported kinds read; the others say which kind.
#[test]
fn kueue_samples_read_or_name_what_is_unsupported() {
    let folder = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/kueue/samples"
    ));
    let Ok(entries) = std::fs::read_dir(folder) else {
        println!("skipped: no Kueue samples at {}", folder.display());
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut read = 0;
    for file in files
        .iter()
        .filter(|file| file.extension().is_some_and(|e| e == "yaml"))
    {
        let Ok(text) = std::fs::read_to_string(file) else {
            panic!("cannot read {}", file.display());
        };
        let kinds: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("kind: "))
            .collect();
        let supported = kinds.iter().all(|kind| {
            [
                "ResourceFlavor",
                "ClusterQueue",
                "LocalQueue",
                "Cohort",
                "Namespace",
            ]
            .contains(kind)
        });
        match parse(file, &text) {
            Ok(objects) => {
                assert!(supported, "{} read despite kinds {kinds:?}", file.display());
                read += 1;
                println!(
                    "read {}: {} ClusterQueues",
                    file.display(),
                    objects.cluster_queues.len()
                );
            }
            Err(error) => {
                let message = error.to_string();
                println!("refused {}: {message}", file.display());
                let names_kind = kinds
                    .iter()
                    .any(|kind| message.contains(&format!("kind {kind} ")));
                let names_field = message.contains("spec.") && message.contains("not");
                assert!(
                    names_kind || (supported && names_field),
                    "unclear refusal of {}: {message}",
                    file.display()
                );
            }
        }
    }
    assert!(read > 0, "no sample read at all");
}

#[test]
fn v1beta1_names_are_accepted_in_v1beta1_only() {
    let text = "\
apiVersion: kueue.x-k8s.io/v1beta1
kind: ClusterQueue
metadata: {name: old}
spec:
  cohort: department
  flavorFungibility: {whenCanBorrow: Borrow, whenCanPreempt: Preempt}
";
    let queue = &read(text).cluster_queues[0];
    assert_eq!(queue.cohort, Some(CohortName::new("department")));
    assert_eq!(
        queue.fungibility.when_can_borrow,
        WhenCanBorrow::MayStopSearch
    );
    assert_eq!(
        queue.fungibility.when_can_preempt,
        WhenCanPreempt::MayStopSearch
    );
    let (line, field, reason) = refused(&text.replace("v1beta1", "v1beta2"));
    assert_eq!((line, field.as_str()), (5, "ClusterQueue/old: spec.cohort"));
    assert!(reason.contains("cohortName"), "{reason}");
}

#[test]
fn zero_quota_of_an_unmodelled_resource_is_dropped() {
    let text = "\
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: q}
spec:
  resourceGroups:
  - coveredResources: [pods, example.com/gpu]
    flavors:
    - name: f
      resources:
      - {name: pods, nominalQuota: 0}
      - {name: example.com/gpu, nominalQuota: 3}
";
    assert_eq!(read(text).cluster_queues[0].flavors[0].resources, gpu(3000));
    let (line, field, reason) = refused(&text.replace("nominalQuota: 0", "nominalQuota: 10"));
    assert_eq!(line, 10);
    assert_eq!(
        field,
        "ClusterQueue/q: spec.resourceGroups[0].flavors[0].resources[0].name"
    );
    assert!(reason.contains("pods is not modelled"), "{reason}");
}

#[test]
fn borrowing_within_the_cohort_without_reclaiming_is_refused_as_kueue_does() {
    let (line, field, reason) =
        refused(&SETUP.replace("reclaimWithinCohort: Any", "reclaimWithinCohort: Never"));
    assert_eq!(
        field,
        "ClusterQueue/lab-a: spec.preemption.borrowWithinCohort.policy"
    );
    assert!(reason.contains("needs reclaimWithinCohort"), "{reason}");
    let expected = SETUP
        .lines()
        .position(|l| l.ends_with("policy: LowerPriority"));
    assert_eq!(Some(line as usize - 1), expected);
}

#[test]
fn the_message_is_file_line_object_field_reason() {
    use kueue_model::quantity::{Malformed, QuantityError};
    use kueue_model::{ObjectRef, Reason};
    let error = refusal(&SETUP.replace("nominalQuota: 16Gi", "nominalQuota: 16GB"));
    assert_eq!(
        error.object(),
        Some(&ObjectRef {
            kind: Some("ClusterQueue".into()),
            name: Some("lab-a".into()),
        })
    );
    assert!(
        matches!(
            error.reason(),
            Reason::Quantity(QuantityError::Malformed {
                text,
                problem: Malformed::UnknownSuffix,
            }) if text == "16GB"
        ),
        "{:?}",
        error.reason()
    );
    assert_eq!(
        error.to_string(),
        "kueue.yaml:44: ClusterQueue/lab-a: \
         spec.resourceGroups[0].flavors[0].resources[1].nominalQuota: \"16GB\" is not a \
         Kubernetes quantity: unknown suffix (use one of n u m k M G T P E Ki Mi Gi Ti Pi Ei, \
         or e<exponent>)"
    );
    // Before objects are told apart there is no object to name.
    let error = refusal(&format!("{SETUP}---\nkind: a: b\n"));
    assert_eq!(error.object(), None);
    let line = SETUP.lines().count() + 2;
    assert!(
        error
            .to_string()
            .starts_with(&format!("kueue.yaml:{line}: (document): ")),
        "{error}"
    );
    let error = refusal("- apiVersion: kueue.x-k8s.io/v1beta2\n  metadata: {name: f}\n");
    assert_eq!(
        error.to_string(),
        "kueue.yaml:1: kind: document 1, item 0: not a Kubernetes object (no `kind`)"
    );
    assert!(matches!(error.reason(), Reason::NotAnObject(_)));
}

#[test]
fn memory_quota_below_one_mib_is_refused_naming_line_and_field() {
    let error = refusal(&SETUP.replace("nominalQuota: 16Gi", "nominalQuota: 512Ki"));
    assert_eq!(
        error.to_string(),
        "kueue.yaml:44: ClusterQueue/lab-a: \
         spec.resourceGroups[0].flavors[0].resources[1].nominalQuota: quantity \"512Ki\" is \
         less than one MiB (the smallest amount alloc-core counts) but not 0; write 0 or at \
         least 1Mi"
    );
}

#[test]
fn an_exponent_out_of_range_is_not_called_an_unknown_suffix() {
    let error = refusal(&SETUP.replace("nominalQuota: 16Gi", "nominalQuota: 1e400"));
    let message = error.to_string();
    assert!(
        message.starts_with("kueue.yaml:44: ClusterQueue/lab-a:")
            && message.contains("the exponent is out of range (e-60 to e60)")
            && !message.contains("unknown suffix"),
        "{message}"
    );
}
