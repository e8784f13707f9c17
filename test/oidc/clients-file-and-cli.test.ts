// Clients an operator registers outside the admin API: CLIENTS_FILE and `gatehouse clients:create`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../server/config.ts';
import { loadClientsFile } from '../../server/oidc/clients-file.ts';
import { cliEnv, runCli } from '../helpers/child.ts';
import { createPersistentTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestServer } from '../helpers/server.ts';

const insecure = { execute: [oidc.allowInsecureRequests] };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-clients-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('CLIENTS_FILE', () => {
  it('serves the clients of the file, secrets checked as digests', async () => {
    const secret = 'a-file-secret-that-is-long-enough-0123456789';
    const file = join(dir, 'clients.json');
    await writeFile(file, JSON.stringify([{ client_id: 'reporting', client_secret: secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api' }]));
    const gh = await startTestServer({ env: { CLIENTS_FILE: file } });
    try {
      const config = await oidc.discovery(new URL(`${gh.url}/oidc`), 'reporting', undefined, oidc.ClientSecretBasic(secret), insecure);
      const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api', resource: `${gh.url}/api` });
      expect(decodeJwt(tokens.access_token).sub).toBe('reporting');
    } finally {
      await gh.close();
    }
  });

  it('exempts a confidential client from PKCE when the file says so, and refuses that for a public one', async () => {
    const file = join(dir, 'legacy.json');
    const legacy = { client_id: 'legacy', client_secret: 'a-file-secret-that-is-long-enough-0123456789', grant_types: ['authorization_code'], redirect_uris: ['https://legacy.example/cb'], pkce_required: false };
    await writeFile(file, JSON.stringify([legacy]));
    const gh = await startTestServer({ env: { CLIENTS_FILE: file } });
    try {
      const config = await oidc.discovery(new URL(`${gh.url}/oidc`), 'legacy', undefined, oidc.ClientSecretBasic(legacy.client_secret), insecure);
      const hop = await fetch(oidc.buildAuthorizationUrl(config, { redirect_uri: legacy.redirect_uris[0]!, scope: 'openid', state: 's' }), { redirect: 'manual' });
      // Without the exemption this would redirect back with invalid_request; with it, to the login page.
      expect(hop.status).toBe(303);
      expect(hop.headers.get('location')).toMatch(/^\/interaction\//);
    } finally {
      await gh.close();
    }

    await writeFile(file, JSON.stringify([{ client_id: 'spa', grant_types: ['authorization_code'], redirect_uris: ['https://spa.example/cb'], pkce_required: false }]));
    await expect(startTestServer({ env: { CLIENTS_FILE: file } })).rejects.toSatisfy((e: unknown) => e instanceof ConfigError && /spa.*PKCE/.test(e.message));
  });

  it('refuses a bad file with a message naming CLIENTS_FILE', async () => {
    const file = join(dir, 'bad.json');
    for (const content of ['not json', JSON.stringify([{ client_id: 'x', client_secret: 'short' }]), JSON.stringify([{ client_id: 'y', grant_types: ['implicit'] }])]) {
      await writeFile(file, content);
      await expect(loadClientsFile(file)).rejects.toSatisfy((e: unknown) => e instanceof ConfigError && /CLIENTS_FILE/.test(e.message));
    }
  });
});

describe('gatehouse clients:create', () => {
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    database = await createPersistentTestDatabase(join(dir, 'pglite'));
    env = cliEnv(database.url, join(dir, 'keys'));
  });
  afterAll(() => database?.drop());

  it('registers a confidential client and prints its secret once', async () => {
    const run = await runCli(['clients:create', '--name', 'Nightly Export', '--grant-type', 'client_credentials', '--scope', 'api'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const clientId = /client_id: (\S+)/.exec(run.stdout)![1]!;
    const secret = /client_secret: (\S+)/.exec(run.stdout)![1]!;

    const gh = await startTestServer({ database, keysDir: join(dir, 'keys'), keep: true });
    try {
      const config = await oidc.discovery(new URL(`${gh.url}/oidc`), clientId, undefined, oidc.ClientSecretBasic(secret), insecure);
      const tokens = await oidc.clientCredentialsGrant(config, { scope: 'api', resource: `${gh.url}/api` });
      expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: clientId, scope: 'api' });
    } finally {
      await gh.close();
    }
    const bad = await runCli(['clients:create', '--name', 'X', '--grant-type', 'password'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--grant-type/);
  }, 60_000);

  it('answers the id and the secret as JSON under --json, and a refusal as a JSON error', async () => {
    const run = await runCli(['clients:create', '--name', 'Scripted', '--grant-type', 'client_credentials', '--json'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const created = JSON.parse(run.stdout) as { clientId: string; clientSecret: string };
    expect(Object.keys(created).sort()).toEqual(['clientId', 'clientSecret']);

    const gh = await startTestServer({ database, keysDir: join(dir, 'keys'), keep: true });
    try {
      const config = await oidc.discovery(new URL(`${gh.url}/oidc`), created.clientId, undefined, oidc.ClientSecretBasic(created.clientSecret), insecure);
      expect(decodeJwt((await oidc.clientCredentialsGrant(config, { resource: `${gh.url}/api` })).access_token).sub).toBe(created.clientId);
    } finally {
      await gh.close();
    }

    const refused = await runCli(['clients:create', '--name', 'Spa', '--grant-type', 'authorization_code', '--redirect-uri', 'https://spa.example/cb', '--public', '--no-pkce-required', '--json'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { code: 'INVALID_INPUT', fieldErrors: { pkceRequired: [expect.stringMatching(/PKCE/)] } } });
  }, 60_000);

  it('exempts a confidential client from PKCE with --no-pkce-required, never a public one', async () => {
    const create = (...extra: string[]) =>
      runCli(['clients:create', '--name', 'Legacy', '--grant-type', 'authorization_code', '--redirect-uri', 'https://legacy.example/cb', '--no-pkce-required', ...extra], { env });
    const ok = await create();
    expect(ok.stderr).toBe('');
    const clientId = /client_id: (\S+)/.exec(ok.stdout)![1]!;
    const spa = await create('--public');
    expect(spa.code).not.toBe(0);
    expect(spa.stderr).toMatch(/PKCE/);

    const gh = await startTestServer({ database, keysDir: join(dir, 'keys'), keep: true });
    try {
      const listed = await gh.deps.clientAdmin.list();
      expect(listed.find((c) => c.clientId === clientId)).toMatchObject({ public: false, pkceRequired: false });
      expect(listed.filter((c) => c.name === 'Legacy')).toHaveLength(1);
    } finally {
      await gh.close();
    }
  }, 60_000);
});
