//! Items kept in one list and chained by group: the answers a cycle keeps per request class or
//! per preemption family. One list for all groups, because a backlog's thousand groups, each
//! met once or twice, would otherwise cost an allocation apiece every cycle.

/// What an item says of itself: the group it is chained in (a small number).
pub(crate) trait Grouped {
    fn group(&self) -> usize;
}

/// Items by group, each group's latest first.
#[derive(Debug, Clone)]
pub(crate) struct Chains<T> {
    links: Vec<Link<T>>,
    /// Per group, its latest item in `links`.
    last: Vec<Option<u32>>,
}

#[derive(Debug, Clone)]
struct Link<T> {
    item: T,
    /// The group's item before this one.
    before: Option<u32>,
}

impl<T: Grouped> Default for Chains<T> {
    fn default() -> Self {
        Chains::with_groups(0)
    }
}

impl<T: Grouped> Chains<T> {
    /// Room for groups below `groups` up front (others are made room for as they come).
    pub(crate) fn with_groups(groups: usize) -> Self {
        Chains {
            links: Vec::new(),
            last: vec![None; groups],
        }
    }

    /// Adds `item` to its group. Past `u32::MAX` items it is not kept: more than a cycle has
    /// jobs, and every item is an answer that can be worked out again.
    pub(crate) fn push(&mut self, item: T) {
        let Ok(at) = u32::try_from(self.links.len()) else {
            return;
        };
        let group = item.group();
        if self.last.len() <= group {
            self.last.resize(group + 1, None);
        }
        let before = self.last[group].replace(at);
        self.links.push(Link { item, before });
    }

    /// `group`'s items, the latest first.
    pub(crate) fn of(&self, group: usize) -> Group<'_, T> {
        Group {
            links: &self.links,
            at: self.last.get(group).copied().flatten(),
        }
    }

    /// Keeps the items `keep` accepts, in their order; the list keeps its capacity and the
    /// chains are linked again.
    pub(crate) fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        self.links.retain(|link| keep(&link.item));
        self.last.fill(None);
        for (at, link) in (0u32..).zip(self.links.iter_mut()) {
            if let Some(last) = self.last.get_mut(link.item.group()) {
                link.before = last.replace(at);
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.links.clear();
        self.last.fill(None);
    }
}

/// One group's items, walked down its chain.
pub(crate) struct Group<'a, T> {
    links: &'a [Link<T>],
    at: Option<u32>,
}

impl<'a, T> Iterator for Group<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        let link = self.links.get(self.at? as usize)?;
        self.at = link.before;
        Some(&link.item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Grouped for (usize, &'static str) {
        fn group(&self) -> usize {
            self.0
        }
    }

    fn of(chains: &Chains<(usize, &'static str)>, group: usize) -> Vec<&'static str> {
        chains.of(group).map(|item| item.1).collect()
    }

    #[test]
    fn each_group_reads_its_own_items_latest_first_through_retain_and_clear() {
        let mut chains = Chains::with_groups(2);
        chains.push((0, "a"));
        chains.push((1, "b"));
        chains.push((0, "c"));
        chains.push((5, "d")); // a group past the ones made room for
        assert_eq!(of(&chains, 0), ["c", "a"]);
        assert_eq!(of(&chains, 1), ["b"]);
        assert_eq!(of(&chains, 5), ["d"]);
        assert!(of(&chains, 3).is_empty() && of(&chains, 9).is_empty());
        // dropping the first item moves every later one: the chains must follow
        chains.retain(|item| item.1 != "a");
        assert_eq!(of(&chains, 0), ["c"]);
        assert_eq!(of(&chains, 1), ["b"]);
        assert_eq!(of(&chains, 5), ["d"]);
        chains.push((1, "e"));
        assert_eq!(of(&chains, 1), ["e", "b"]);
        chains.clear();
        assert!(of(&chains, 0).is_empty() && of(&chains, 1).is_empty());
    }
}
