//! Who may do what (F31): the five roles and the groups route guards check.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's role. Owners and agents belong to one tenant; the others run the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A tenant's owner: everything in their tenant, billing included.
    Owner,
    /// A tenant's attendant: conversations and knowledge of their tenant.
    Agent,
    /// A SaaS operator.
    Admin,
    /// An operator who may also create other super admins.
    SuperAdmin,
    /// Reads the event log and its proofs; changes nothing.
    Auditor,
}

/// A role name that is not one of the five.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown role {0:?}; expected owner, agent, admin, super_admin or auditor")]
pub struct UnknownRole(pub String);

impl Role {
    /// The stable name stored in the database and carried in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Agent => "agent",
            Self::Admin => "admin",
            Self::SuperAdmin => "super_admin",
            Self::Auditor => "auditor",
        }
    }

    /// Owner or agent: the role needs a tenant.
    pub fn is_tenant_role(self) -> bool {
        matches!(self, Self::Owner | Self::Agent)
    }

    /// Admin or super admin.
    pub fn is_admin(self) -> bool {
        matches!(self, Self::Admin | Self::SuperAdmin)
    }

    /// May read the audit log: auditors and admins.
    pub fn is_auditor(self) -> bool {
        self == Self::Auditor || self.is_admin()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "owner" => Self::Owner,
            "agent" => Self::Agent,
            "admin" => Self::Admin,
            "super_admin" => Self::SuperAdmin,
            "auditor" => Self::Auditor,
            other => return Err(UnknownRole(other.to_owned())),
        })
    }
}

/// For rows read with `#[sqlx(try_from = "String")]`.
impl TryFrom<String> for Role {
    type Error = UnknownRole;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_survives_a_round_trip_through_its_name() {
        for role in [
            Role::Owner,
            Role::Agent,
            Role::Admin,
            Role::SuperAdmin,
            Role::Auditor,
        ] {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn admins_may_audit_but_agents_may_not() {
        assert!(Role::SuperAdmin.is_auditor() && Role::Admin.is_auditor());
        assert!(!Role::Agent.is_auditor() && !Role::Owner.is_admin());
    }
}
