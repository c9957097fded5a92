//! Who submits: labs (tenants, each submitting to the LocalQueue of the same name) and their
//! users, `<tenant>-user-<i>`. The first users of each lab are its main authors, the ones who
//! push hardest before a conference deadline.

use alloc_core::{LocalQueueName, TenantName, UserName};
use rand::Rng;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Who {
    pub tenant: TenantName,
    pub queue: LocalQueueName,
    pub user: UserName,
}

#[derive(Debug, Clone)]
pub(crate) struct People {
    tenants: Vec<String>,
    users_per_tenant: u32,
    /// Every lab's users, made once: each job then shares its names instead of owning copies.
    members: Vec<Vec<Who>>,
}

impl People {
    pub(crate) fn new(tenants: &[String], users_per_tenant: u32) -> People {
        let users_per_tenant = users_per_tenant.max(1);
        let members = tenants
            .iter()
            .map(|lab| {
                (0..users_per_tenant)
                    .map(|user| People::who(lab, &format!("{lab}-user-{user}")))
                    .collect()
            })
            .collect();
        People {
            tenants: tenants.to_vec(),
            users_per_tenant,
            members,
        }
    }

    pub(crate) fn who(tenant: &str, user: &str) -> Who {
        Who {
            tenant: TenantName::new(tenant),
            queue: LocalQueueName::new(tenant),
            user: UserName::new(user),
        }
    }

    fn member(&self, tenant: usize, user: u32) -> Who {
        if let Some(who) = self.members.get(tenant).and_then(|m| m.get(user as usize)) {
            return who.clone();
        }
        let lab = self.tenants.get(tenant).map_or("lab-0", String::as_str);
        People::who(lab, &format!("{lab}-user-{user}"))
    }

    pub(crate) fn user_count(&self) -> usize {
        self.tenants.len() * self.users_per_tenant as usize
    }

    /// A user drawn uniformly from the whole department.
    pub(crate) fn random<R: Rng>(&self, rng: &mut R) -> Who {
        let tenant = rng.gen_range(0..self.tenants.len().max(1));
        let user = rng.gen_range(0..self.users_per_tenant);
        self.member(tenant, user)
    }

    /// The first `per_tenant` users of every lab, lab by lab.
    pub(crate) fn main_authors(&self, per_tenant: u32) -> Vec<Who> {
        (0..self.tenants.len())
            .flat_map(|tenant| {
                (0..per_tenant.min(self.users_per_tenant)).map(move |user| (tenant, user))
            })
            .map(|(tenant, user)| self.member(tenant, user))
            .collect()
    }

    /// Every user, lab by lab.
    pub(crate) fn everyone(&self) -> Vec<Who> {
        self.main_authors(self.users_per_tenant)
    }
}
