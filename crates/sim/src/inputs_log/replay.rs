//! `sim replay-inputs`: an inputs log replayed through the core, line by line, and the
//! replayed decisions compared with the logged ones as JSON: as text first (a cycle line's
//! decisions are taken as written, not parsed into values, which is most of a replay's time
//! saved), as values where the texts differ.

use crate::error::{Result, SimError};
use alloc_core::inputs_log::{Counts, Difference, Read, Replayer, Start, CORE_VERSION};
use alloc_core::{Decision, Input, JobId, LogRecord, Time};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::fmt;
use std::io::BufRead;
use std::path::Path;

/// What replaying a log found.
#[derive(Debug)]
pub struct Checked {
    pub counts: Counts,
    /// The alloc-core version that wrote the log.
    pub core_version: String,
    /// The first decision replayed otherwise than logged; `None` when every one is the same.
    pub mismatch: Option<Mismatch>,
}

impl Checked {
    /// Whether the log was written by the core this program replays it with.
    pub fn same_core(&self) -> bool {
        self.core_version == CORE_VERSION
    }

    /// The one-line summary of an identical replay.
    pub fn summary(&self) -> String {
        let Counts {
            records,
            inputs,
            cycles,
            decisions,
        } = self.counts;
        let verdict = match self.mismatch {
            None => "identical",
            Some(_) => "different",
        };
        format!(
            "{records} records: {inputs} inputs, {cycles} cycles, {decisions} decisions: {verdict}"
        )
    }
}

/// The first decision where the replay and the log part.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// The cycle record's line in the file, from 1.
    pub line: u64,
    pub now: Time,
    /// The decision's position in its cycle, from 0.
    pub position: usize,
    /// The job it is about: the replayed decision's, else the logged one's.
    pub job: Option<JobId>,
    /// How many decisions the cycle has in the log and in the replay.
    pub counts: (usize, usize),
    /// The logged decision's JSON text, as the log holds it.
    pub logged: Option<String>,
    pub replayed: Option<Decision>,
}

impl Mismatch {
    fn new(line: u64, difference: &Difference<'_, Json<'_>>, counts: (usize, usize)) -> Mismatch {
        let logged_job = || {
            let value = difference.logged?.value();
            let (_, body) = value.as_object()?.iter().next()?;
            body.get("job")?.as_u64().map(JobId)
        };
        Mismatch {
            line,
            now: difference.now,
            position: difference.position,
            job: difference.job().or_else(logged_job),
            counts,
            logged: difference.logged.map(|json| json.text().to_string()),
            replayed: difference.replayed.cloned(),
        }
    }
}

impl fmt::Display for Mismatch {
    /// `cycle at t=…ms: decision 3 of 7 (job 17) differs`, then the logged decision, the
    /// replayed one and its sentence, each on a line of its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (logged, replayed) = self.counts;
        write!(
            f,
            "cycle at {}: decision {} of {}",
            self.now,
            self.position + 1,
            logged.max(replayed)
        )?;
        if let Some(job) = self.job {
            write!(f, " ({job})")?;
        }
        f.write_str(" differs")?;
        match &self.logged {
            Some(decision) => write!(f, "\n  logged:   {decision}")?,
            None => write!(
                f,
                "\n  logged:   nothing (the log has {logged} decisions here)"
            )?,
        }
        match &self.replayed {
            Some(decision) => write!(
                f,
                "\n  replayed: {}\n            {decision}",
                encode(decision).text()
            ),
            None => write!(
                f,
                "\n  replayed: nothing (the replay made {replayed} decisions here)"
            ),
        }
    }
}

/// A decision as JSON text: as the log holds it (borrowed from its line), or as the replay
/// encodes it. Equal when the texts are, or else when their values are (another writer may
/// space or order keys otherwise).
#[derive(Debug)]
enum Json<'a> {
    Logged(&'a RawValue),
    Text(String),
}

impl Json<'_> {
    fn text(&self) -> &str {
        match self {
            Json::Logged(raw) => raw.get(),
            Json::Text(text) => text,
        }
    }

    fn value(&self) -> Value {
        serde_json::from_str(self.text()).unwrap_or(Value::Null)
    }
}

impl PartialEq for Json<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text() || self.value() == other.value()
    }
}

/// A replayed decision as the log would hold it.
fn encode<'a>(decision: &Decision) -> Json<'a> {
    Json::Text(serde_json::to_string(decision).unwrap_or_default())
}

/// Replays the log at `path` through the core. `each` sees every replayed decision with its
/// cycle's time, `progress` the bytes read so far (now and then). Stops at the first
/// difference unless `to_end`; the first is the one reported either way. A line that is not
/// a record, or whose record the core refuses, is an error naming the file and the line.
pub fn check(
    path: &Path,
    to_end: bool,
    mut each: impl FnMut(Time, &Decision),
    mut progress: impl FnMut(u64),
) -> Result<Checked> {
    let file = std::fs::File::open(path).map_err(|e| SimError::io(path, e))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let bad = |line: u64, reason: String| SimError::BadLog {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut replayer = Replayer::new();
    let mut core_version = String::new();
    let mut mismatch = None;
    let (mut text, mut line, mut bytes) = (String::new(), 0u64, 0u64);
    loop {
        text.clear();
        let read = reader
            .read_line(&mut text)
            .map_err(|e| bad(line + 1, format!("cannot read the line: {e}")))?;
        if read == 0 {
            break;
        }
        line += 1;
        bytes += read as u64;
        if line.is_multiple_of(4096) {
            progress(bytes);
        }
        if text.trim().is_empty() {
            continue;
        }
        let record = parse(&text).map_err(|reason| bad(line, reason))?;
        if let LogRecord::Start(start) = &record {
            core_version.clone_from(&start.core_version);
        }
        let Some(cycle) = replayer
            .step(record)
            .map_err(|error| bad(line, error.kind.to_string()))?
        else {
            continue;
        };
        for decision in &cycle.replayed {
            each(cycle.now, decision);
        }
        if mismatch.is_none() {
            let counts = (cycle.logged.len(), cycle.replayed.len());
            if let Some(difference) = cycle.first_difference(encode) {
                mismatch = Some(Mismatch::new(line, &difference, counts));
                if !to_end {
                    break;
                }
            }
        }
    }
    progress(bytes);
    let counts = replayer.finish().map_err(|_| SimError::BadFile {
        path: path.to_path_buf(),
        reason: "no start record: the file holds no record at all".into(),
    })?;
    Ok(Checked {
        counts,
        core_version,
        mismatch,
    })
}

/// A cycle record as this program writes it (tag first), its decisions left as text.
#[derive(Deserialize)]
struct CycleLine<'a> {
    record: &'a str,
    now: Time,
    #[serde(borrow)]
    decisions: Vec<&'a RawValue>,
}

/// One record; on error, the field that is wrong and why.
fn parse(text: &str) -> std::result::Result<Read<Json<'_>>, String> {
    if text.starts_with(r#"{"record":"cycle","#) {
        if let Ok(CycleLine {
            record: "cycle",
            now,
            decisions,
        }) = serde_json::from_str(text)
        {
            let decisions = decisions.into_iter().map(Json::Logged).collect();
            return Ok(LogRecord::Cycle { now, decisions });
        }
    }
    let record: Read<Value> = serde_json::from_str(text).map_err(|error| explain(text, error))?;
    Ok(match record {
        LogRecord::Start(start) => LogRecord::Start(start),
        LogRecord::Input { input } => LogRecord::Input { input },
        LogRecord::Cycle { now, decisions } => LogRecord::Cycle {
            now,
            decisions: decisions
                .iter()
                .map(|decision| Json::Text(decision.to_string()))
                .collect(),
        },
    })
}

/// Why a line is not a record, naming the field: the record's tag is read first, then the
/// part it tags (a record's fields are buffered to find its tag, which loses their path).
fn explain(text: &str, error: serde_json::Error) -> String {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(syntax) => return syntax.to_string(),
    };
    let field = |name: &str| value.get(name).cloned();
    let found = match value.get("record").and_then(Value::as_str) {
        Some("start") => traced::<Start>(None, Some(value.clone())),
        Some("input") => traced::<Input>(Some("input"), field("input")),
        Some("cycle") => traced::<Time>(Some("now"), field("now"))
            .or_else(|| traced::<Vec<Value>>(Some("decisions"), field("decisions"))),
        Some(_) => Some(format!("record: {error}")),
        None => None,
    };
    found.unwrap_or_else(|| error.to_string())
}

/// `field.path: reason` if `value` is not a `T` (`None` if it is, or is missing).
fn traced<T: serde::de::DeserializeOwned>(
    field: Option<&str>,
    value: Option<Value>,
) -> Option<String> {
    let error = serde_path_to_error::deserialize::<_, T>(value?).err()?;
    let path = error.path().to_string();
    let path = match (field, path.as_str()) {
        (Some(field), ".") => field.to_string(),
        (Some(field), path) => format!("{field}.{path}"),
        (None, ".") => return Some(error.inner().to_string()),
        (None, path) => path.to_string(),
    };
    Some(format!("{path}: {}", error.inner()))
}
