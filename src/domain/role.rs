//! Who is calling, and what that lets them see.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The kind of caller behind an API key or a person: `admin` runs the deployment (partners, API keys,
/// everything); `operator` is 21Vianet support staff (every partner's escalations, the catalog,
/// service health); `partner` is one CSP partner's systems (its own customers and nothing of
/// another partner's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the deployment: partners, API keys, everything.
    Admin,
    /// 21Vianet support staff: every partner's escalations, the catalog, service health.
    Operator,
    /// One CSP partner's systems: its own customers and nothing of another partner's.
    Partner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Operator, Role::Partner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Partner => "partner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`: expected admin, operator or partner"))
    }
}

/// What acts: a system with an API key, or a person signed in with their organisation's identity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    ApiKey,
    Person,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::ApiKey => "api_key",
            ActorKind::Person => "person",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [ActorKind::ApiKey, ActorKind::Person]
            .into_iter()
            .find(|kind| kind.as_str() == value)
    }
}

/// Who acts, as every change names them: the key's or the person's id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Uuid,
    /// The key's name, or the person's, as it was when they acted.
    pub name: String,
}

/// The caller behind a valid API key or a person's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub actor: Actor,
    pub role: Role,
    /// Set exactly when `role` is `Partner`.
    pub partner_id: Option<Uuid>,
}

/// The caller's role is not among those an operation admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    pub role: Role,
    pub allowed: Vec<Role>,
}

/// Which partners' data a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Admins and operators see every partner's data.
    All,
    /// A partner sees its own data only; anything else is answered as absent.
    Partner(Uuid),
}

impl Scope {
    /// Whether data owned by `partner_id` is visible in this scope.
    pub fn admits(self, partner_id: Uuid) -> bool {
        match self {
            Scope::All => true,
            Scope::Partner(own) => own == partner_id,
        }
    }

    pub fn partner_id(self) -> Option<Uuid> {
        match self {
            Scope::All => None,
            Scope::Partner(id) => Some(id),
        }
    }
}

impl Principal {
    /// Refuses callers whose role is not in `allowed`.
    pub fn require(&self, allowed: &[Role]) -> Result<(), Forbidden> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(Forbidden {
                role: self.role,
                allowed: allowed.to_vec(),
            })
        }
    }

    pub fn scope(&self) -> Scope {
        match (self.role, self.partner_id) {
            (Role::Partner, Some(id)) => Scope::Partner(id),
            // A partner key always has a partner; should one ever lack it, it sees nothing rather
            // than everything.
            (Role::Partner, None) => Scope::Partner(Uuid::nil()),
            (Role::Admin | Role::Operator, _) => Scope::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, partner_id: Option<Uuid>) -> Principal {
        Principal {
            actor: Actor {
                kind: ActorKind::ApiKey,
                id: Uuid::now_v7(),
                name: "ticketing".to_owned(),
            },
            role,
            partner_id,
        }
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn require_names_the_allowed_roles() {
        let operator = principal(Role::Operator, None);
        assert!(operator.require(&[Role::Admin, Role::Operator]).is_ok());
        let refused = operator.require(&[Role::Admin]).unwrap_err();
        assert_eq!(refused.allowed, vec![Role::Admin]);
    }

    #[test]
    fn partners_see_only_their_own_data() {
        let mine = Uuid::now_v7();
        let scope = principal(Role::Partner, Some(mine)).scope();
        assert!(scope.admits(mine));
        assert!(!scope.admits(Uuid::now_v7()));
        assert!(principal(Role::Operator, None).scope().admits(mine));
        assert!(!principal(Role::Partner, None).scope().admits(mine));
    }
}
