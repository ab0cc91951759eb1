//! The in-memory index: per tenant, two lists (enrolled identities and the blocklist), each a
//! contiguous array of int8 codes scanned by brute force. Removal swaps the last row into the gap,
//! so the arrays stay dense and a scan never skips holes.

use std::collections::HashMap;

use crate::kernel;
use crate::template::{Template, TemplateError};

/// An entry's id: the store's row id (a UUID) as 128 bits.
pub type EntryId = u128;

/// Rows scored per kernel call: 4096 rows of 128 bytes stay in L2 with their scores.
const BLOCK: usize = 4096;

/// Which list of a tenant an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum List {
    /// An identity enrolled under the tenant's external reference (duplicate check).
    Enrolled,
    /// A face the tenant's operators blocked.
    Blocked,
}

/// The best entry a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: EntryId,
    pub external_ref: Option<String>,
    /// Cosine of the probe and the entry (int8 approximation, within ~0.01 of the float value).
    pub cosine: f32,
}

/// One list of one tenant.
#[derive(Debug, Clone)]
pub struct Index {
    dim: usize,
    codes: Vec<i8>,
    steps: Vec<f32>,
    ids: Vec<EntryId>,
    refs: Vec<Option<Box<str>>>,
    slots: HashMap<EntryId, usize>,
}

impl Index {
    pub fn new(dim: usize) -> Index {
        Index {
            dim,
            codes: Vec::new(),
            steps: Vec::new(),
            ids: Vec::new(),
            refs: Vec::new(),
            slots: HashMap::new(),
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn contains(&self, id: EntryId) -> bool {
        self.slots.contains_key(&id)
    }

    /// Reserves room for `more` entries (bulk loads).
    pub fn reserve(&mut self, more: usize) {
        self.codes.reserve(more * self.dim);
        self.steps.reserve(more);
        self.ids.reserve(more);
        self.refs.reserve(more);
        self.slots.reserve(more);
    }

    /// Adds an entry, or replaces the one with the same id.
    pub fn upsert(
        &mut self,
        id: EntryId,
        external_ref: Option<&str>,
        template: &Template,
    ) -> Result<(), TemplateError> {
        if template.dim() != self.dim {
            return Err(TemplateError::Dimension {
                got: template.dim(),
                want: self.dim,
            });
        }
        let r = external_ref.map(Box::from);
        match self.slots.get(&id) {
            Some(&slot) => {
                self.codes[slot * self.dim..(slot + 1) * self.dim]
                    .copy_from_slice(template.codes());
                self.steps[slot] = template.step();
                self.refs[slot] = r;
            }
            None => {
                self.slots.insert(id, self.ids.len());
                self.codes.extend_from_slice(template.codes());
                self.steps.push(template.step());
                self.ids.push(id);
                self.refs.push(r);
            }
        }
        Ok(())
    }

    /// Removes an entry; false when it was not there.
    pub fn remove(&mut self, id: EntryId) -> bool {
        let Some(slot) = self.slots.remove(&id) else {
            return false;
        };
        let last = self.ids.len() - 1;
        if slot != last {
            let (head, tail) = self.codes.split_at_mut(last * self.dim);
            head[slot * self.dim..(slot + 1) * self.dim].copy_from_slice(&tail[..self.dim]);
            self.slots.insert(self.ids[last], slot);
        }
        self.codes.truncate(last * self.dim);
        self.steps.swap_remove(slot);
        self.ids.swap_remove(slot);
        self.refs.swap_remove(slot);
        true
    }

    /// Ids of entries filed under `external_ref`.
    pub fn ids_with_ref(&self, external_ref: &str) -> Vec<EntryId> {
        self.refs
            .iter()
            .zip(&self.ids)
            .filter(|(r, _)| r.as_deref() == Some(external_ref))
            .map(|(_, id)| *id)
            .collect()
    }

    /// The entry most similar to `probe`, skipping entries filed under `exclude_ref` (the probe's
    /// own identity). Brute force over every row.
    pub fn best(&self, probe: &Template, exclude_ref: Option<&str>) -> Option<Hit> {
        if probe.dim() != self.dim || self.is_empty() {
            return None;
        }
        let mut scores = vec![0i32; BLOCK.min(self.len())];
        let mut best: Option<(usize, f32)> = None;
        for (b, rows) in self.codes.chunks(BLOCK * self.dim).enumerate() {
            let n = rows.len() / self.dim;
            kernel::scan(rows, self.dim, probe.codes(), &mut scores[..n]);
            let base = b * BLOCK;
            for (i, &dot) in scores[..n].iter().enumerate() {
                let cosine = dot as f32 * self.steps[base + i] * probe.step();
                if best.is_none_or(|(_, s)| cosine > s) {
                    let r = self.refs[base + i].as_deref();
                    if exclude_ref.is_none() || r != exclude_ref {
                        best = Some((base + i, cosine));
                    }
                }
            }
        }
        best.map(|(slot, cosine)| Hit {
            id: self.ids[slot],
            external_ref: self.refs[slot].as_deref().map(str::to_owned),
            cosine: cosine.clamp(-1.0, 1.0),
        })
    }

    /// Heap bytes held, per entry on average (codes, step, id, reference, slot map).
    pub fn bytes(&self) -> usize {
        let refs: usize = self.refs.iter().flatten().map(|r| r.len()).sum();
        self.codes.capacity()
            + self.steps.capacity() * 4
            + self.ids.capacity() * 16
            + self.refs.capacity() * std::mem::size_of::<Option<Box<str>>>()
            + refs
            // hashbrown: key + value + one control byte per bucket, buckets ~ 8/7 of the entries.
            + self.slots.capacity() * (16 + 8 + 1) * 8 / 7
    }
}

/// What one search found in a tenant's two lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// The most similar enrolled identity under another external reference.
    pub duplicate: Option<Hit>,
    /// The most similar blocklisted face.
    pub blocked: Option<Hit>,
    /// Entries compared in each list (the `N` of the FAR correction).
    pub enrolled_size: usize,
    pub blocked_size: usize,
}

#[derive(Debug, Clone)]
struct Lists {
    enrolled: Index,
    blocked: Index,
}

impl Lists {
    fn get_mut(&mut self, list: List) -> &mut Index {
        match list {
            List::Enrolled => &mut self.enrolled,
            List::Blocked => &mut self.blocked,
        }
    }
}

/// Every tenant's lists. A search names its tenant and sees nothing else.
#[derive(Debug, Clone)]
pub struct Galleries {
    dim: usize,
    tenants: HashMap<String, Lists>,
}

impl Galleries {
    pub fn new(dim: usize) -> Galleries {
        Galleries {
            dim,
            tenants: HashMap::new(),
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    fn lists(&mut self, tenant: &str) -> &mut Lists {
        let dim = self.dim;
        self.tenants
            .entry(tenant.to_owned())
            .or_insert_with(|| Lists {
                enrolled: Index::new(dim),
                blocked: Index::new(dim),
            })
    }

    /// Files an entry in one list of a tenant (leaving the other list if it was there).
    pub fn upsert(
        &mut self,
        tenant: &str,
        list: List,
        id: EntryId,
        external_ref: Option<&str>,
        template: &Template,
    ) -> Result<(), TemplateError> {
        let lists = self.lists(tenant);
        let other = match list {
            List::Enrolled => List::Blocked,
            List::Blocked => List::Enrolled,
        };
        lists.get_mut(other).remove(id);
        lists.get_mut(list).upsert(id, external_ref, template)
    }

    /// Removes an entry from whichever list holds it; false when none did.
    pub fn remove(&mut self, tenant: &str, id: EntryId) -> bool {
        match self.tenants.get_mut(tenant) {
            Some(l) => l.enrolled.remove(id) | l.blocked.remove(id),
            None => false,
        }
    }

    /// Whether a tenant's lists hold an entry.
    pub fn contains(&self, tenant: &str, id: EntryId) -> bool {
        self.tenants
            .get(tenant)
            .is_some_and(|l| l.enrolled.contains(id) || l.blocked.contains(id))
    }

    /// Searches one tenant's lists.
    pub fn search(&self, tenant: &str, probe: &Template, own_ref: Option<&str>) -> Search {
        let Some(l) = self.tenants.get(tenant) else {
            return Search::default();
        };
        Search {
            duplicate: l.enrolled.best(probe, own_ref),
            blocked: l.blocked.best(probe, None),
            enrolled_size: l.enrolled.len(),
            blocked_size: l.blocked.len(),
        }
    }

    /// Entries held, all tenants and lists.
    pub fn len(&self) -> usize {
        self.tenants
            .values()
            .map(|l| l.enrolled.len() + l.blocked.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One tenant's list (benchmarks, metrics).
    pub fn index(&self, tenant: &str, list: List) -> Option<&Index> {
        self.tenants.get(tenant).map(|l| match list {
            List::Enrolled => &l.enrolled,
            List::Blocked => &l.blocked,
        })
    }

    /// Reserves room in one tenant's list (bulk loads).
    pub fn reserve(&mut self, tenant: &str, list: List, more: usize) {
        self.lists(tenant).get_mut(list).reserve(more);
    }

    /// Heap bytes held by every index.
    pub fn bytes(&self) -> usize {
        self.tenants
            .values()
            .map(|l| l.enrolled.bytes() + l.blocked.bytes())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f32]) -> Template {
        Template::quantise(v).unwrap()
    }

    #[test]
    fn best_skips_own_ref_and_removal_keeps_rows_dense() {
        let mut g = Galleries::new(3);
        g.upsert("A", List::Enrolled, 1, Some("alice"), &t(&[1.0, 0.0, 0.0]))
            .unwrap();
        g.upsert("A", List::Enrolled, 2, Some("bob"), &t(&[0.9, 0.1, 0.0]))
            .unwrap();
        g.upsert("A", List::Enrolled, 3, Some("carol"), &t(&[0.0, 0.0, 1.0]))
            .unwrap();
        let probe = t(&[1.0, 0.0, 0.0]);
        // Under alice's own reference the best other identity is bob.
        let s = g.search("A", &probe, Some("alice"));
        assert_eq!(s.duplicate.as_ref().map(|h| h.id), Some(2));
        assert_eq!(s.enrolled_size, 3);
        assert_eq!(g.search("A", &probe, None).duplicate.unwrap().id, 1);
        // Tenant B sees nothing of A.
        assert_eq!(g.search("B", &probe, None), Search::default());
        // Remove the first row: the last moves into its slot and is still found.
        assert!(g.remove("A", 1));
        assert!(!g.remove("A", 1));
        let s = g.search("A", &t(&[0.0, 0.0, 1.0]), None);
        assert_eq!(s.duplicate.unwrap().id, 3);
        assert_eq!(g.len(), 2);
        // Moving an entry to the blocklist takes it out of the enrolled list.
        g.upsert("A", List::Blocked, 2, Some("bob"), &t(&[0.9, 0.1, 0.0]))
            .unwrap();
        let s = g.search("A", &probe, None);
        assert_eq!(s.blocked.unwrap().id, 2);
        assert_eq!(s.duplicate.unwrap().id, 3);
        assert!(
            g.upsert("A", List::Blocked, 9, None, &t(&[1.0, 2.0]))
                .is_err()
        );
    }

    #[test]
    fn many_blocks_find_the_planted_row() {
        let dim = 16;
        let mut idx = Index::new(dim);
        for i in 0..(3 * BLOCK + 17) as u128 {
            let v: Vec<f32> = (0..dim)
                .map(|k| (((i as usize + 1) * (k + 3)) % 13) as f32 - 6.0)
                .collect();
            if v.iter().any(|x| *x != 0.0) {
                idx.upsert(i, None, &t(&v)).unwrap();
            }
        }
        let planted: Vec<f32> = (0..dim).map(|k| if k == 5 { 1.0 } else { 0.0 }).collect();
        idx.upsert(424_242, Some("x"), &t(&planted)).unwrap();
        let hit = idx.best(&t(&planted), None).unwrap();
        assert_eq!(hit.id, 424_242);
        assert!(hit.cosine > 0.99);
        assert_eq!(idx.ids_with_ref("x"), vec![424_242]);
    }
}
