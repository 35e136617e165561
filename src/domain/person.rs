//! People who sign in with their organisation's identity. The directory tenant their token comes
//! from decides whose side they are on (21Vianet's own tenant, or a registered partner's), and the
//! app roles the token carries decide what they may do there. A token that fits neither is
//! refused, and nothing is recorded of it.

use uuid::Uuid;

use super::Role;

/// The app roles escalade's registration defines, as tokens carry them in `roles`.
pub const ADMIN_APP_ROLE: &str = "Escalade.Admin";
pub const OPERATOR_APP_ROLE: &str = "Escalade.Operator";
pub const PARTNER_APP_ROLE: &str = "Escalade.Partner";

/// What a token's tenant is to this deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant {
    /// 21Vianet's own tenant: operators and admins.
    Operator,
    /// A registered partner's tenant.
    Partner(Uuid),
    /// Neither.
    Unregistered,
}

/// Why a valid token does not let its person in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The tenant is neither 21Vianet's nor a registered partner's.
    TenantNotRegistered,
    /// No role, or one the tenant cannot hold (an operator role in a partner's tenant).
    RoleNotAllowed,
}

/// The role a person takes in `tenant` with `app_roles`, and the partner they act for. App roles
/// of other applications are none of escalade's business and pass unseen; escalade's own must
/// all be ones the tenant may hold. An admin is also an operator: the higher role wins.
pub fn role_of(tenant: Tenant, app_roles: &[String]) -> Result<(Role, Option<Uuid>), Refused> {
    let ours: Vec<Role> = app_roles
        .iter()
        .filter_map(|role| match role.as_str() {
            ADMIN_APP_ROLE => Some(Role::Admin),
            OPERATOR_APP_ROLE => Some(Role::Operator),
            PARTNER_APP_ROLE => Some(Role::Partner),
            _ => None,
        })
        .collect();
    let (may_hold, partner_id): (&[Role], _) = match tenant {
        Tenant::Unregistered => return Err(Refused::TenantNotRegistered),
        Tenant::Operator => (&[Role::Admin, Role::Operator], None),
        Tenant::Partner(id) => (&[Role::Partner], Some(id)),
    };
    if ours.iter().any(|role| !may_hold.contains(role)) {
        return Err(Refused::RoleNotAllowed);
    }
    may_hold
        .iter()
        .find(|role| ours.contains(role))
        .map(|role| (*role, partner_id))
        .ok_or(Refused::RoleNotAllowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn the_tenant_decides_the_side_and_the_app_roles_the_role() {
        let partner = Uuid::now_v7();
        let cases = [
            (
                Tenant::Operator,
                vec![OPERATOR_APP_ROLE],
                Ok((Role::Operator, None)),
            ),
            (
                Tenant::Operator,
                vec![ADMIN_APP_ROLE],
                Ok((Role::Admin, None)),
            ),
            (
                Tenant::Operator,
                vec![OPERATOR_APP_ROLE, ADMIN_APP_ROLE],
                Ok((Role::Admin, None)),
            ),
            (
                Tenant::Operator,
                vec!["Other.App", OPERATOR_APP_ROLE],
                Ok((Role::Operator, None)),
            ),
            (
                Tenant::Partner(partner),
                vec![PARTNER_APP_ROLE],
                Ok((Role::Partner, Some(partner))),
            ),
            (
                Tenant::Partner(partner),
                vec![OPERATOR_APP_ROLE],
                Err(Refused::RoleNotAllowed),
            ),
            (
                Tenant::Partner(partner),
                vec![PARTNER_APP_ROLE, ADMIN_APP_ROLE],
                Err(Refused::RoleNotAllowed),
            ),
            (
                Tenant::Partner(partner),
                vec![],
                Err(Refused::RoleNotAllowed),
            ),
            (
                Tenant::Operator,
                vec![PARTNER_APP_ROLE],
                Err(Refused::RoleNotAllowed),
            ),
            (
                Tenant::Operator,
                vec!["Other.App"],
                Err(Refused::RoleNotAllowed),
            ),
            (
                Tenant::Unregistered,
                vec![ADMIN_APP_ROLE],
                Err(Refused::TenantNotRegistered),
            ),
        ];
        for (tenant, app_roles, expected) in cases {
            assert_eq!(
                role_of(tenant, &roles(&app_roles)),
                expected,
                "{tenant:?} {app_roles:?}"
            );
        }
    }
}
