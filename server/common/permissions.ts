// The permission catalogue of Gatehouse's own API: a typo in requirePermission('...') fails to compile.

export const PERMISSIONS = ['users:read', 'users:write', 'users:delete', 'roles:manage', 'audit:read', 'clients:manage'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const BUILT_IN_ROLES = { admin: 'admin', user: 'user' } as const;
