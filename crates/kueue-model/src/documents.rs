//! Splitting a file into YAML documents and finding the line of a field by its path.
//!
//! We split on `---` ourselves (rather than iterating serde_norway's documents) so every error
//! line can be mapped back to the file, and comment-only documents (a header before the first
//! `---`, as Kueue's samples have) are skipped the same way kubectl skips them. serde_norway
//! reports no positions for values that parsed, so semantic errors find their line by walking
//! the document's block-style text along the field path; flow-style parts (`{...}`, `[...]`)
//! stop the walk and the line of the deepest key found is used.

/// One non-empty YAML document of the file.
pub(crate) struct Chunk {
    /// The document's text, starting at its `---` line (blanked so columns are unchanged).
    pub text: String,
    /// The file line of the chunk's first line.
    pub first_line: u64,
    /// 1-based number among the file's non-empty documents.
    pub number: usize,
}

impl Chunk {
    /// The file line of a 1-based line of the chunk.
    pub fn file_line(&self, chunk_line: u64) -> u64 {
        self.first_line + chunk_line.saturating_sub(1)
    }
}

/// One step of a field path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// Formats steps as `spec.resourceGroups[0].flavors[1]`.
pub(crate) fn display(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

fn is_separator(line: &str) -> bool {
    line.starts_with("---") && line[3..].chars().next().is_none_or(char::is_whitespace)
}

fn is_content(line: &str) -> bool {
    let trimmed = line.trim();
    !(trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('%'))
}

/// The file's documents that contain anything but comments, blank lines and directives.
pub(crate) fn split(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut first_line = 1u64;
    let flush = |lines: &mut Vec<&str>, first_line: u64, chunks: &mut Vec<Chunk>| {
        if lines.iter().any(|line| is_content(line)) {
            let mut text = String::new();
            for (index, line) in lines.iter().enumerate() {
                if index == 0 && is_separator(line) {
                    text.push_str("   ");
                    text.push_str(&line[3..]);
                } else {
                    text.push_str(line);
                }
                text.push('\n');
            }
            let number = chunks.len() + 1;
            chunks.push(Chunk {
                text,
                first_line,
                number,
            });
        }
        lines.clear();
    };
    for (index, line) in text.lines().enumerate() {
        if is_separator(line) {
            flush(&mut current, first_line, &mut chunks);
            first_line = index as u64 + 1;
        }
        current.push(line);
    }
    flush(&mut current, first_line, &mut chunks);
    chunks
}

/// A content line: its indentation, and the column and text after any `- ` markers.
struct Line<'a> {
    indent: usize,
    marked: bool,
    token_col: usize,
    rest: &'a str,
}

fn parse_line(text: &str) -> Option<Line<'_>> {
    if !is_content(text) {
        return None;
    }
    let indent = text.len() - text.trim_start().len();
    let mut rest = &text[indent..];
    let mut token_col = indent;
    let marked = rest == "-" || rest.starts_with("- ");
    if marked {
        // Only the first marker: `- - x` (a list in a list) never appears in Kueue objects.
        let after = rest[1..].trim_start();
        token_col += rest.len() - after.len();
        rest = after;
    }
    Some(Line {
        indent,
        marked,
        token_col,
        rest,
    })
}

fn is_key(rest: &str, key: &str) -> bool {
    [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
        .iter()
        .any(|form| {
            rest.strip_prefix(form.as_str())
                .is_some_and(|after| after.trim_start().starts_with(':'))
        })
}

/// Where the walk stands: the root, the value of a key, or an item of a sequence.
enum At {
    Root,
    Value { line: usize, col: usize },
    Item { line: usize },
}

/// The 1-based chunk line of the field at `steps`, or of the deepest part of it that could be
/// found in block style.
pub(crate) fn line_of(text: &str, steps: &[Step]) -> u64 {
    let lines: Vec<Option<Line<'_>>> = text.lines().map(parse_line).collect();
    let first = lines.iter().position(Option::is_some).unwrap_or(0);
    let mut best = first;
    let mut at = At::Root;
    for step in steps {
        let found = match step {
            Step::Key(key) => find_key(&lines, &at, key),
            Step::Index(index) => find_item(&lines, &at, *index),
        };
        match found {
            Some(next) => {
                best = match next {
                    At::Root => best,
                    At::Value { line, .. } | At::Item { line } => line,
                };
                at = next;
            }
            None => break,
        }
    }
    best as u64 + 1
}

/// The first content line after `line`, with its index.
fn next_content<'a, 'b>(
    lines: &'b [Option<Line<'a>>],
    from: usize,
) -> Option<(usize, &'b Line<'a>)> {
    lines
        .iter()
        .enumerate()
        .skip(from)
        .find_map(|(index, line)| line.as_ref().map(|line| (index, line)))
}

fn find_key(lines: &[Option<Line<'_>>], at: &At, key: &str) -> Option<At> {
    // The mapping's first line and the column its keys stand at.
    let (start, col) = match *at {
        At::Root => next_content(lines, 0).map(|(index, line)| (index, line.indent))?,
        At::Value { line, col } => {
            let (index, first) = next_content(lines, line + 1)?;
            (first.indent > col && !first.marked).then_some((index, first.indent))?
        }
        At::Item { line } => {
            let marker = lines.get(line)?.as_ref()?;
            if marker.rest.is_empty() {
                next_content(lines, line + 1).map(|(index, first)| (index, first.indent))?
            } else {
                (line, marker.token_col)
            }
        }
    };
    for (index, line) in lines.iter().enumerate().skip(start) {
        let Some(line) = line else { continue };
        let on_start = index == start;
        if !on_start && line.indent < col {
            return None;
        }
        let key_col = if on_start {
            line.token_col
        } else {
            line.indent
        };
        if key_col == col && (on_start || !line.marked) && is_key(line.rest, key) {
            return Some(At::Value {
                line: index,
                col: key_col,
            });
        }
    }
    None
}

fn find_item(lines: &[Option<Line<'_>>], at: &At, wanted: usize) -> Option<At> {
    let (start, col) = match *at {
        At::Root => next_content(lines, 0).map(|(index, line)| (index, line.indent))?,
        At::Value { line, col } => {
            let (index, first) = next_content(lines, line + 1)?;
            (first.indent >= col && first.marked).then_some((index, first.indent))?
        }
        At::Item { .. } => return None,
    };
    let mut seen = 0;
    for (index, line) in lines.iter().enumerate().skip(start) {
        let Some(line) = line else { continue };
        if line.indent < col || (line.indent == col && !line.marked) {
            return None;
        }
        if line.indent == col {
            if seen == wanted {
                return Some(At::Item { line: index });
            }
            seen += 1;
        }
    }
    None
}
