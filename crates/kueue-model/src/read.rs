//! From a file's text to typed Kueue objects, each with where it came from.
//!
//! Each document is read twice: first loosely (`serde_norway::Value`) to learn its shape (one
//! object, a YAML list of objects, or a `kind: List`) and each object's kind, then strictly,
//! each object into the spec type of its kind, through `serde_path_to_error` so a wrong field is
//! reported with its path and line.

use crate::documents::{self, Chunk, Step};
use crate::error::{KueueError, ObjectRef, Place, Reason, Result};
use crate::objects::{ClusterQueueSpec, CohortSpec, Envelope, LocalQueueSpec, ResourceFlavorSpec};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_norway::Value;
use std::fmt;
use std::path::Path;

pub(crate) const API_VERSIONS: [&str; 2] = ["kueue.x-k8s.io/v1beta2", "kueue.x-k8s.io/v1beta1"];

/// The kinds we read; `Skipped` is a Namespace, which a pasted setup often contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ResourceFlavor,
    ClusterQueue,
    LocalQueue,
    Cohort,
    Skipped,
}

#[derive(Debug)]
pub(crate) enum Object {
    ResourceFlavor(Envelope<ResourceFlavorSpec>),
    /// Boxed: a ClusterQueue's spec is many times the size of the other kinds'.
    ClusterQueue(Box<Envelope<ClusterQueueSpec>>),
    LocalQueue(Envelope<LocalQueueSpec>),
    Cohort(Envelope<CohortSpec>),
}

/// A typed object and where it is: its document and the path from the document's root.
pub(crate) struct Located<'c> {
    pub object: Object,
    pub chunk: &'c Chunk,
    pub prefix: Vec<Step>,
}

/// Reads every document of the file into located objects, in file order.
pub(crate) fn objects<'c>(path: &Path, chunks: &'c [Chunk]) -> Result<Vec<Located<'c>>> {
    let mut all = Vec::new();
    for chunk in chunks {
        let shape: Value = serde_norway::from_str(&chunk.text).map_err(|error| {
            let line = error.location().map_or(1, |l| l.line() as u64);
            bad(
                path,
                chunk.file_line(line),
                None,
                "(document)".into(),
                Reason::Yaml(syntax(&error)),
            )
        })?;
        // Where the objects are: the document itself, its items, or its `items`.
        let (base, items): (Vec<Step>, Vec<&Value>) = match &shape {
            Value::Sequence(items) => (Vec::new(), items.iter().collect()),
            Value::Mapping(_) if shape.get("kind").and_then(Value::as_str) == Some("List") => {
                let items = shape.get("items").and_then(Value::as_sequence);
                let items = items
                    .map(|items| items.iter().collect())
                    .unwrap_or_default();
                (vec![Step::Key("items".into())], items)
            }
            _ => (Vec::new(), vec![&shape]),
        };
        let single = !matches!(shape, Value::Sequence(_)) && base.is_empty();
        let prefix = |index: usize| {
            let mut steps = base.clone();
            if !single {
                steps.push(Step::Index(index));
            }
            steps
        };
        let mut kinds = Vec::new();
        for (index, item) in items.iter().enumerate() {
            kinds.push(kind_of(path, chunk, &prefix(index), item)?);
        }
        let mut track = serde_path_to_error::Track::new();
        let deserializer = serde_norway::Deserializer::from_str(&chunk.text);
        let tracked = serde_path_to_error::Deserializer::new(deserializer, &mut track);
        let parsed = if single {
            ObjectSeed(kinds.first().copied().unwrap_or(Kind::Skipped))
                .deserialize(tracked)
                .map(|object| vec![object])
        } else if base.is_empty() {
            SequenceSeed(&kinds).deserialize(tracked)
        } else {
            ListSeed(&kinds).deserialize(tracked)
        };
        let parsed = parsed.map_err(|error| {
            let steps: Vec<Step> = track.path().iter().filter_map(step).collect();
            let line = error.location().map_or(1, |l| l.line() as u64);
            // Steps before `own` lead to the object (`[3]`, `items[3]`); name it by kind and
            // name when the loose read can tell them.
            let own = if single { 0 } else { base.len() + 1 };
            let object = match steps.get(own.wrapping_sub(1)) {
                _ if single => items.first(),
                Some(Step::Index(index)) => items.get(*index),
                _ => None,
            };
            let (object, field) = match (object, steps.get(own..)) {
                (Some(object), Some(inner)) => (
                    Some(object_ref(object)),
                    blank_top(documents::display(inner)),
                ),
                _ => (None, blank_top(documents::display(&steps))),
            };
            let reason = Reason::Yaml(syntax(&error));
            bad(path, chunk.file_line(line), object, field, reason)
        })?;
        for (index, object) in parsed.into_iter().enumerate() {
            if let Some(object) = object {
                all.push(Located {
                    object,
                    chunk,
                    prefix: prefix(index),
                });
            }
        }
    }
    Ok(all)
}

/// The kind and name of a loosely read object, for error messages.
fn object_ref(object: &Value) -> ObjectRef {
    let name = object.get("metadata").and_then(|meta| meta.get("name"));
    ObjectRef {
        kind: object
            .get("kind")
            .and_then(Value::as_str)
            .map(str::to_string),
        name: name.and_then(Value::as_str).map(str::to_string),
    }
}

fn blank_top(field: String) -> String {
    if field.is_empty() {
        "(top level)".into()
    } else {
        field
    }
}

fn step(segment: &serde_path_to_error::Segment) -> Option<Step> {
    match segment {
        serde_path_to_error::Segment::Seq { index } => Some(Step::Index(*index)),
        serde_path_to_error::Segment::Map { key } => Some(Step::Key(key.clone())),
        _ => None,
    }
}

/// serde_norway appends "at line L column C"; the line is already in our message.
fn syntax(error: &serde_norway::Error) -> String {
    let message = error.to_string();
    match message.find(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message,
    }
}

fn bad(
    path: &Path,
    line: u64,
    object: Option<ObjectRef>,
    field: String,
    reason: Reason,
) -> KueueError {
    KueueError::new(path, line, object, field, reason)
}

fn kind_of(path: &Path, chunk: &Chunk, prefix: &[Step], object: &Value) -> Result<Kind> {
    let at = |key: &str| {
        let mut steps = prefix.to_vec();
        steps.push(Step::Key(key.into()));
        chunk.file_line(documents::line_of(&chunk.text, &steps))
    };
    let place = Place {
        document: chunk.number,
        item: match prefix.last() {
            Some(Step::Index(index)) => Some(*index),
            _ => None,
        },
    };
    let Some(kind) = object.get("kind").and_then(Value::as_str) else {
        let reason = Reason::NotAnObject(place);
        return Err(bad(path, at("kind"), None, "kind".into(), reason));
    };
    let version = object.get("apiVersion").and_then(Value::as_str);
    let known = match kind {
        "ResourceFlavor" => Kind::ResourceFlavor,
        "ClusterQueue" => Kind::ClusterQueue,
        "LocalQueue" => Kind::LocalQueue,
        "Cohort" => Kind::Cohort,
        "Namespace" => return Ok(Kind::Skipped),
        other => {
            let reason = Reason::UnsupportedKind {
                place,
                kind: other.to_string(),
            };
            let object = Some(object_ref(object));
            return Err(bad(path, at("kind"), object, "kind".into(), reason));
        }
    };
    if !version.is_some_and(|version| API_VERSIONS.contains(&version)) {
        let reason = Reason::UnsupportedApiVersion {
            place,
            found: version.map(str::to_string),
        };
        let object = Some(object_ref(object));
        return Err(bad(
            path,
            at("apiVersion"),
            object,
            "apiVersion".into(),
            reason,
        ));
    }
    Ok(known)
}

/// Reads one object into the spec type of its kind; `None` for a skipped kind.
struct ObjectSeed(Kind);

impl<'de> DeserializeSeed<'de> for ObjectSeed {
    type Value = Option<Object>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        use serde::Deserialize;
        Ok(Some(match self.0 {
            Kind::ResourceFlavor => Object::ResourceFlavor(Envelope::deserialize(d)?),
            Kind::ClusterQueue => Object::ClusterQueue(Box::new(Envelope::deserialize(d)?)),
            Kind::LocalQueue => Object::LocalQueue(Envelope::deserialize(d)?),
            Kind::Cohort => Object::Cohort(Envelope::deserialize(d)?),
            Kind::Skipped => {
                IgnoredAny::deserialize(d)?;
                return Ok(None);
            }
        }))
    }
}

/// Reads a sequence of objects whose kinds the loose read found.
struct SequenceSeed<'k>(&'k [Kind]);

impl<'de> DeserializeSeed<'de> for SequenceSeed<'_> {
    type Value = Vec<Option<Object>>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SequenceSeed<'_> {
    type Value = Vec<Option<Object>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of Kueue objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut objects = Vec::new();
        for kind in self.0 {
            match seq.next_element_seed(ObjectSeed(*kind))? {
                Some(object) => objects.push(object),
                None => break,
            }
        }
        Ok(objects)
    }
}

/// Reads a `kind: List`: its `items` are objects, everything else is ignored.
struct ListSeed<'k>(&'k [Kind]);

impl<'de> DeserializeSeed<'de> for ListSeed<'_> {
    type Value = Vec<Option<Object>>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ListSeed<'_> {
    type Value = Vec<Option<Object>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes List")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut objects = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                objects = map.next_value_seed(SequenceSeed(self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(objects)
    }
}
