// CLIENTS_FILE: a JSON array of client metadata; secrets are digested before the provider sees them.
import { readFile } from 'node:fs/promises';
import type Provider from 'oidc-provider';
import type { ClientMetadata } from 'oidc-provider';
import { z } from 'zod';
import { ConfigError } from '../config.ts';
import { digest } from '../common/digest.ts';

const fileClient = z.looseObject({
  client_id: z.string().min(1).max(200),
  client_secret: z.string().min(32, 'client_secret must be at least 32 characters').optional(),
  client_name: z.string().max(200).optional(),
  first_party: z.boolean().optional(),
  pkce_required: z.boolean().optional(),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).optional(),
  response_types: z.array(z.literal('code')).optional(),
});

export async function loadClientsFile(path: string): Promise<ClientMetadata[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ConfigError([`CLIENTS_FILE: cannot read ${path} as JSON (${(error as Error).message})`]);
  }
  const parsed = z.array(fileClient).safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `CLIENTS_FILE: [${i.path.join('.')}] ${i.message}`));
  }
  const ids = parsed.data.map((c) => c.client_id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new ConfigError([`CLIENTS_FILE: client_id ${dup} appears twice`]);
  return parsed.data.map(({ client_secret, ...client }) => ({
    token_endpoint_auth_method: client_secret ? 'client_secret_basic' : 'none',
    ...client,
    ...(client_secret ? { client_secret: digest(client_secret) } : {}),
  })) as ClientMetadata[];
}

/** The provider's own validation, at start rather than at a client's first request. */
export async function validateStaticClients(provider: Provider, clients: ClientMetadata[]): Promise<void> {
  for (const client of clients) {
    try {
      await provider.Client.validate(client);
    } catch (error) {
      throw new ConfigError([`CLIENTS_FILE: client ${client.client_id}: ${(error as { error_description?: string }).error_description ?? (error as Error).message}`]);
    }
  }
}
