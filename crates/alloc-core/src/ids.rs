//! Identifiers. Names of configured objects are strings (they come from Kubernetes objects and
//! scenario files and appear in explanations); jobs are numbered. All are ordered, so maps keyed
//! by them iterate deterministically.
//!
//! A name's text is shared (`Arc<str>`): every job, placement and ledger entry carries names,
//! and cloning one is then a count increment instead of an allocation; equal names cloned from
//! one another also compare equal without reading their text, and names that differ in their
//! first eight bytes are ordered without reading either text ([`Name`]).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

macro_rules! name_id {
    ($($(#[$meta:meta])* $name:ident($inner:ty);)*) => {
    $(
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
        #[serde(from = "String")]
        pub struct $name($inner);

        // As a newtype of its text: `FlavorName("a30")`.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0.text()).finish()
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.0.text())
            }
        }

        impl $name {
            /// The name with this text.
            pub fn new(name: impl Into<String>) -> Self {
                $name(<$inner>::from(Arc::<str>::from(name.into())))
            }
            /// Its text, for output and for comparing with text.
            pub fn as_str(&self) -> &str {
                self.0.text()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0.text())
            }
        }

        impl From<&str> for $name {
            fn from(name: &str) -> Self {
                $name(<$inner>::from(Arc::<str>::from(name)))
            }
        }

        impl From<String> for $name {
            fn from(name: String) -> Self {
                $name(<$inner>::from(Arc::<str>::from(name)))
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn inline_schema() -> bool {
                <schema::$name as schemars::JsonSchema>::inline_schema()
            }
            fn schema_name() -> std::borrow::Cow<'static, str> {
                <schema::$name as schemars::JsonSchema>::schema_name()
            }
            fn schema_id() -> std::borrow::Cow<'static, str> {
                <schema::$name as schemars::JsonSchema>::schema_id()
            }
            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                <schema::$name as schemars::JsonSchema>::json_schema(generator)
            }
        }
    )*

        /// The names as plain newtypes of their text, for their JSON schema only: a string,
        /// documented and named as the name type.
        #[cfg(feature = "schema")]
        #[allow(dead_code)]
        mod schema {
            use std::sync::Arc;
            $(
                $(#[$meta])*
                #[derive(schemars::JsonSchema)]
                #[serde(transparent)]
                pub struct $name(Arc<str>);
            )*
        }
    };
}

/// A name's shared text and its first eight bytes as a big-endian integer (zero-padded).
///
/// Maps keyed by names compare a looked-up name with several others on every hot path, and
/// comparing texts reads both from the heap. Two names whose first eight bytes differ are
/// ordered by those integers alone, as their texts would be (a shorter text pads with zeros,
/// which sort first, as a text's own prefix does); only names that share their first eight
/// bytes read their texts, and one name compared with a copy of itself reads nothing.
#[derive(Debug, Clone)]
struct Name {
    head: u64,
    text: Arc<str>,
}

impl From<Arc<str>> for Name {
    fn from(text: Arc<str>) -> Name {
        let mut head = [0u8; 8];
        for (slot, byte) in head.iter_mut().zip(text.bytes()) {
            *slot = byte;
        }
        Name {
            head: u64::from_be_bytes(head),
            text,
        }
    }
}

impl Name {
    fn text(&self) -> &str {
        &self.text
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        // Different heads are different texts, read from nowhere; `Arc`'s own equality would
        // read the text even of one shared value (its pointer shortcut needs a sized `T`).
        self.head == other.head && (Arc::ptr_eq(&self.text, &other.text) || self.text == other.text)
    }
}

impl Eq for Name {}

impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        self.head.cmp(&other.head).then_with(|| {
            if Arc::ptr_eq(&self.text, &other.text) {
                std::cmp::Ordering::Equal
            } else {
                self.text.cmp(&other.text)
            }
        })
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // as equality: by the text
        self.text.hash(state);
    }
}

/// A name's shared text, compared as text: for names whose first bytes tell little apart.
#[derive(Debug, Clone)]
struct Text(Arc<str>);

impl From<Arc<str>> for Text {
    fn from(text: Arc<str>) -> Text {
        Text(text)
    }
}

impl Text {
    fn text(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for Text {}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        // Maps keyed by names mostly meet the very value they hold.
        if Arc::ptr_eq(&self.0, &other.0) {
            std::cmp::Ordering::Equal
        } else {
            self.0.cmp(&other.0)
        }
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

name_id! {
    /// A GPU model such as `V100` or `A100-80GB`.
    GpuModelName(Name);
    /// A Kueue ResourceFlavor.
    FlavorName(Name);
    /// A cluster: the private fleet or a public cloud region.
    ClusterName(Name);
    /// A Kubernetes node. Plain text: node names share long prefixes (`gke-pool-1-…`,
    /// `node-000…`), where a head would only add a comparison.
    NodeName(Text);
    /// A Kueue ClusterQueue.
    QueueName(Name);
    /// A Kueue LocalQueue (namespaced in Kubernetes; `namespace/name` by convention here).
    LocalQueueName(Name);
    /// A Kueue Cohort.
    CohortName(Name);
    /// A tenant: a lab or group that owns a budget and a fair share.
    TenantName(Name);
    /// A user inside a tenant.
    UserName(Name);
}

/// A job's number, unique for the lifetime of a scheduler.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

    /// Texts that meet the head's edge cases: shorter and longer than eight bytes, one a
    /// prefix of the other, NUL bytes (the padding's value), and multi-byte characters.
    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just('\0'),
                Just('a'),
                Just('b'),
                Just('é'),
                Just('\u{10FFFF}')
            ],
            0..12,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn names_order_equal_and_hash_as_their_texts(a in text(), b in text()) {
            let (x, y) = (FlavorName::from(a.as_str()), FlavorName::from(b.as_str()));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(x == y, a == b);
            let hasher = BuildHasherDefault::<DefaultHasher>::default();
            if a == b {
                prop_assert_eq!(hasher.hash_one(&x), hasher.hash_one(&y));
            }
            // a copy sharing the text compares equal to the original
            prop_assert_eq!(x.clone().cmp(&x), std::cmp::Ordering::Equal);
            // and names kept as plain text do the same
            let (x, y) = (NodeName::from(a.as_str()), NodeName::from(b.as_str()));
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(x == y, a == b);
        }
    }

    #[test]
    fn a_name_reads_and_writes_as_its_text() {
        let name = QueueName::new("lab-0/notebooks");
        assert_eq!(format!("{name:?}"), "QueueName(\"lab-0/notebooks\")");
        assert_eq!(name.to_string(), "lab-0/notebooks");
        let json = serde_json::to_string(&name).unwrap_or_default();
        assert_eq!(json, "\"lab-0/notebooks\"");
        let back: QueueName = serde_json::from_str(&json).unwrap_or_else(|_| QueueName::new(""));
        assert_eq!(back, name);
        let node = NodeName::new("node-00042");
        assert_eq!(format!("{node:?}"), "NodeName(\"node-00042\")");
        assert_eq!(
            serde_json::to_string(&node).unwrap_or_default(),
            "\"node-00042\""
        );
    }
}
