//! The event queue, ordered by (time, phase, sequence): a total order, so runs are
//! reproducible no matter how events were pushed.

use super::event::{Event, Phase};
use alloc_core::Time;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

#[derive(Debug)]
struct Entry {
    key: (Time, Phase, u64),
    event: Event,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

#[derive(Debug, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Reverse<Entry>>,
    sequence: u64,
}

impl EventQueue {
    pub fn push(&mut self, at: Time, event: Event) {
        self.sequence += 1;
        let key = (at, event.phase(), self.sequence);
        self.heap.push(Reverse(Entry { key, event }));
    }

    pub fn pop(&mut self) -> Option<(Time, Event)> {
        self.heap
            .pop()
            .map(|Reverse(entry)| (entry.key.0, entry.event))
    }

    pub fn peek_time(&self) -> Option<Time> {
        self.heap.peek().map(|Reverse(entry)| entry.key.0)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc_core::JobId;

    #[test]
    fn time_then_phase_then_insertion() {
        let mut queue = EventQueue::default();
        queue.push(Time(5), Event::Cycle);
        queue.push(Time(5), Event::Arrival(1));
        queue.push(
            Time(5),
            Event::Finish {
                job: JobId(1),
                attempt: 0,
            },
        );
        queue.push(Time(1), Event::Sample);
        queue.push(Time(5), Event::Arrival(0));
        let order: Vec<Event> = std::iter::from_fn(|| queue.pop().map(|(_, e)| e)).collect();
        assert_eq!(
            order,
            vec![
                Event::Sample,
                Event::Finish {
                    job: JobId(1),
                    attempt: 0
                },
                Event::Arrival(1),
                Event::Arrival(0),
                Event::Cycle,
            ]
        );
    }
}
