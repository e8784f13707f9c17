// The resource servers of the provider (RFC 8707): Gatehouse's own API, built in, and those admins
// registered. One lookup, shared by oidc-provider's getResourceServerInfo and by tokens minted for tRPC.
import { errors, type ResourceServer } from 'oidc-provider';
import type { Db } from '../../db/client.ts';
import type { Config } from '../config.ts';
import { API_SCOPE, PERMISSIONS } from '../common/permissions.ts';
import { findResource } from '../services/resources.ts';

export const ACCESS_TOKEN_ALG = 'ES256';

export interface ResolvedResource {
  info: ResourceServer;
  /** The permission names of a registered resource; null for Gatehouse's own API. */
  permissions: ReadonlySet<string> | null;
}

export function apiResourceServer(config: Pick<Config, 'apiAudience' | 'accessTokenTtl'>): ResourceServer {
  return {
    // `api` names the API itself; the permissions are scopes a third-party client may ask for.
    scope: [API_SCOPE, ...PERMISSIONS].join(' '),
    audience: config.apiAudience,
    accessTokenTTL: config.accessTokenTtl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: ACCESS_TOKEN_ALG } },
  };
}

export function createResourceServers({ config, db }: { config: Config; db: Db }) {
  const builtIn: ResolvedResource = { info: apiResourceServer(config), permissions: null };
  return {
    builtIn,
    /** The resource `identifier`, or undefined when it is not registered. */
    async find(identifier: string): Promise<ResolvedResource | undefined> {
      if (identifier === config.apiAudience) return builtIn;
      const resource = await findResource(db, identifier);
      if (!resource) return undefined;
      const permissions = new Set(resource.permissions.keys());
      return {
        info: {
          scope: [...permissions].join(' '),
          audience: resource.identifier,
          accessTokenTTL: resource.accessTokenTtl ?? config.accessTokenTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: ACCESS_TOKEN_ALG } },
        },
        permissions,
      };
    },
    /** As find, but an unregistered resource is oidc-provider's invalid_target. */
    async get(identifier: string): Promise<ResolvedResource> {
      const found = await this.find(identifier);
      if (!found) throw new errors.InvalidTarget();
      return found;
    },
  };
}

export type ResourceServers = ReturnType<typeof createResourceServers>;
