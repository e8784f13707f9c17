// The permission catalogue of Gatehouse's own API: a typo in requirePermission('...') fails to compile.

export const PERMISSIONS = ['users:read', 'users:write', 'users:delete', 'roles:manage', 'audit:read', 'clients:manage', 'resources:manage'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** In words, for the consent page and admin.resources.list. */
export const PERMISSION_DESCRIPTIONS: Record<Permission, string> = {
  'users:read': 'See user accounts',
  'users:write': 'Create and change user accounts',
  'users:delete': 'Delete user accounts',
  'roles:manage': 'Manage roles and their permissions',
  'audit:read': 'Read the audit trail',
  'clients:manage': 'Manage OAuth clients',
  'resources:manage': 'Manage API resources and their permissions',
};

export const BUILT_IN_ROLES = { admin: 'admin', user: 'user' } as const;

/** The OpenID Connect scopes and `api` (Gatehouse's own API): no permission may take these names. */
export const API_SCOPE = 'api';
/** The built-in first-party client: Gatehouse's own sign-in (auth.login, the typed client). */
export const FIRST_PARTY_CLIENT_ID = 'gatehouse';
export const OIDC_SCOPES = ['openid', 'offline_access', 'email', 'profile', API_SCOPE] as const;

/** What a permission of a registered resource may be called: it is also an OAuth scope, so no spaces. */
export const PERMISSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$/;

const BUILT_IN = new Set<string>(PERMISSIONS);
export function isBuiltInPermission(name: string): name is Permission {
  return BUILT_IN.has(name);
}
