// keys:* commands: the signing keys and cookie secrets in the database, rotated live on every instance.
import { operator } from '../../services/rbac.ts';
import { defineCommand } from '../command.ts';
import { table } from '../output.ts';

const at = (date: Date | null) => date?.toISOString() ?? '-';

export const keysRotate = defineCommand({
  name: 'keys:rotate',
  summary: 'stage a new signing key pair and cookie secret; every instance signs with them after KEY_STAGING_SECONDS',
  description: `
Adds a new ES256 and RS256 key and a new cookie secret, staged: every running instance publishes the
keys in its JWKS and accepts cookies signed with the secret within a few seconds, and signs with
them once KEY_STAGING_SECONDS (default 600) have passed, so that verifiers' cached key sets hold the
keys first. No restart is needed. What they replace retires then: the keys stay published for one
day plus ACCESS_TOKEN_TTL, until every token they signed has expired, and the secret still verifies
for REFRESH_TOKEN_TTL, so browser sessions stay signed in. Audited as key_rotated.`,
  options: {},
  async run({ withDeps }) {
    return withDeps(async (deps) => {
      const rotation = await deps.signingKeys.rotate(operator());
      const { added, retiring, removed, cookieSecrets } = rotation;
      const lines = [
        `staged keys: ${added.map((k) => `${k.kid} (${k.alg})`).join(', ')}`,
        `staged cookie secret: ${cookieSecrets.added.id}`,
        `published now; they sign from ${at(added[0]!.activatesAt)}, when the ${retiring.length} key(s) and ${cookieSecrets.retiring.length} secret(s) in service retire`,
      ];
      if (removed.length > 0) lines.push(`removed keys past their retention: ${removed.join(', ')}`);
      if (cookieSecrets.removed.length > 0) lines.push(`removed cookie secrets past their retention: ${cookieSecrets.removed.join(', ')}`);
      return { data: rotation, text: lines.join('\n') };
    });
  },
});

export const keysList = defineCommand({
  name: 'keys:list',
  summary: 'list the signing keys and cookie secrets with their state: staged, active or retired',
  description: `
Lists every stored signing key, newest first: its kid, algorithm and state, when it activates
(starts signing), when it retires, and when it leaves the published key set. Then the cookie
secrets, by id (never the secret), with the same dates.`,
  options: {},
  async run({ withDeps }) {
    return withDeps(async (deps) => {
      const listed = await deps.signingKeys.list();
      const keys = listed.keys.map((k) => [k.kid, k.alg, k.state, at(k.activatesAt), at(k.retiredAt), at(k.removedAt)]);
      const secrets = listed.cookieSecrets.map((c) => [c.id, c.state, at(c.activatesAt), at(c.retiredAt), at(c.removedAt)]);
      const text = `${table(['kid', 'alg', 'state', 'activates', 'retires', 'removed'], keys)}\n\n${table(['cookie secret', 'state', 'activates', 'retires', 'removed'], secrets)}`;
      return { data: listed, text };
    });
  },
});
