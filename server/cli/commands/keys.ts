// keys:* commands: the signing keys in the database, rotated live on every instance.
import { operator } from '../../services/rbac.ts';
import type { KeyInfo } from '../../services/signing-keys.ts';
import { defineCommand } from '../command.ts';
import { table } from '../output.ts';

const at = (date: Date | null) => date?.toISOString() ?? '-';

export const keysRotate = defineCommand({
  name: 'keys:rotate',
  summary: 'stage a new signing key pair; every instance signs with it after KEY_STAGING_SECONDS',
  description: `
Adds a new ES256 and RS256 key, staged: every running instance publishes them in its JWKS within a
few seconds, and signs with them once KEY_STAGING_SECONDS (default 600) have passed, so that
verifiers' cached key sets hold them first. No restart is needed. The keys in service retire then,
and stay published for one day plus ACCESS_TOKEN_TTL, until every token they signed has expired.
Audited as key_rotated.`,
  options: {},
  async run({ withDeps }) {
    return withDeps(async (deps) => {
      const { added, retiring, removed } = await deps.signingKeys.rotate(operator());
      const lines = [
        `staged keys: ${added.map((k) => `${k.kid} (${k.alg})`).join(', ')}`,
        `published now; they sign from ${at(added[0]!.activatesAt)}, when the ${retiring.length} key(s) in service retire`,
      ];
      if (removed.length > 0) lines.push(`removed keys past their retention: ${removed.join(', ')}`);
      return { data: { added, retiring, removed }, text: lines.join('\n') };
    });
  },
});

export const keysList = defineCommand({
  name: 'keys:list',
  summary: 'list the signing keys with their state: staged, active or retired',
  description: `
Lists every stored signing key, newest first: its kid, algorithm and state, when it activates
(starts signing), when it retires, and when it leaves the published key set.`,
  options: {},
  async run({ withDeps }) {
    return withDeps(async (deps) => {
      const keys: KeyInfo[] = await deps.signingKeys.list();
      const rows = keys.map((k) => [k.kid, k.alg, k.state, at(k.activatesAt), at(k.retiredAt), at(k.removedAt)]);
      return { data: { keys }, text: table(['kid', 'alg', 'state', 'activates', 'retires', 'removed'], rows) };
    });
  },
});
