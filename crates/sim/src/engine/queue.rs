//! The event queue, ordered by (time, phase, sequence): a total order, so runs are
//! reproducible no matter how events were pushed.
//!
//! Workload arrivals are known up front and make up most events, so they wait in a sorted list
//! beside the heap instead of in it: the heap then holds only what is in flight, and a
//! million-job replay does not push a million entries through it. Each arrival keeps the key
//! it would have had as the first events pushed (sequence = index + 1), so the order of events
//! is the same as with one heap.

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
    /// (submit time, workload index), sorted; `next` is the first not yet popped.
    arrivals: Vec<(Time, usize)>,
    next: usize,
}

impl EventQueue {
    /// A queue holding `Event::Arrival(i)` at `times[i]` for every workload index `i`, keyed as
    /// if they had been pushed first, in index order.
    pub fn with_arrivals(times: impl IntoIterator<Item = Time>) -> EventQueue {
        let mut arrivals: Vec<(Time, usize)> = times
            .into_iter()
            .enumerate()
            .map(|(index, at)| (at, index))
            .collect();
        arrivals.sort_unstable();
        EventQueue {
            heap: BinaryHeap::new(),
            sequence: arrivals.len() as u64,
            arrivals,
            next: 0,
        }
    }

    pub fn push(&mut self, at: Time, event: Event) {
        self.sequence += 1;
        let key = (at, event.phase(), self.sequence);
        self.heap.push(Reverse(Entry { key, event }));
    }

    pub fn pop(&mut self) -> Option<(Time, Event)> {
        let arrival = self.next_arrival();
        let queued = self.heap.peek().map(|Reverse(entry)| entry.key);
        match (arrival, queued) {
            (Some((key, index)), queued) if queued.is_none_or(|queued| key < queued) => {
                self.next += 1;
                Some((key.0, Event::Arrival(index)))
            }
            _ => self
                .heap
                .pop()
                .map(|Reverse(entry)| (entry.key.0, entry.event)),
        }
    }

    pub fn peek_time(&self) -> Option<Time> {
        let arrival = self.next_arrival().map(|(key, _)| key.0);
        let queued = self.heap.peek().map(|Reverse(entry)| entry.key.0);
        arrival.into_iter().chain(queued).min()
    }

    pub fn len(&self) -> usize {
        self.heap.len() + (self.arrivals.len() - self.next)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn next_arrival(&self) -> Option<((Time, Phase, u64), usize)> {
        let &(at, index) = self.arrivals.get(self.next)?;
        Some(((at, Phase::Arrival, index as u64 + 1), index))
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

    #[test]
    fn listed_arrivals_come_out_as_if_pushed_first() {
        let times = [Time(5), Time(1), Time(5), Time(3)];
        let mut listed = EventQueue::with_arrivals(times);
        let mut pushed = EventQueue::default();
        for (index, at) in times.into_iter().enumerate() {
            pushed.push(at, Event::Arrival(index));
        }
        for queue in [&mut listed, &mut pushed] {
            queue.push(Time(5), Event::SessionOpen(0));
            queue.push(Time(3), Event::Cycle);
            queue.push(Time(1), Event::Sample);
            queue.push(
                Time(5),
                Event::Finish {
                    job: JobId(9),
                    attempt: 0,
                },
            );
        }
        assert_eq!(listed.len(), pushed.len());
        assert_eq!(listed.peek_time(), Some(Time(1)));
        let drain = |queue: &mut EventQueue| -> Vec<(Time, Event)> {
            std::iter::from_fn(|| queue.pop()).collect()
        };
        let order = drain(&mut listed);
        assert_eq!(order, drain(&mut pushed));
        assert_eq!(order[0], (Time(1), Event::Arrival(1)));
        assert!(listed.is_empty());
    }
}
