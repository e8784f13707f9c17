// Reference for /oidc/token with client credentials: oidc-provider with nothing around it, its
// default in-memory adapter, one static client, and the same token shape as the service (a JWT
// access token for the API resource, signed ES256 with the service's own key).
//
// env: PORT, JWKS_FILE (the service's private jwks.json), AUDIENCE, CLIENT_ID, CLIENT_SECRET.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import Provider from 'oidc-provider';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const port = Number(env('PORT'));
const audience = env('AUDIENCE');
const { keys } = JSON.parse(await readFile(env('JWKS_FILE'), 'utf8')) as { keys: Record<string, unknown>[] };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  jwks: { keys: keys as never },
  clients: [
    {
      client_id: env('CLIENT_ID'),
      client_secret: env('CLIENT_SECRET'),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'api',
    },
  ],
  scopes: ['openid', 'api'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => false,
      getResourceServerInfo: () => ({ scope: 'api', audience, accessTokenTTL: 900, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
    },
  },
  ttl: { ClientCredentials: 900 },
});

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
