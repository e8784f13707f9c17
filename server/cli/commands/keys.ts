// keys:* commands. The key storage is being reworked: keys:rotate is today's, unchanged.
import { keyRetentionSeconds } from '../../deps.ts';
import { rotateKeys } from '../../oidc/keystore.ts';
import { defineCommand } from '../command.ts';

export const keysRotate = defineCommand({
  name: 'keys:rotate',
  summary: 'add a new signing key pair to KEYS_DIR',
  description: `
Adds a new signing key pair to KEYS_DIR. It is published at once; each instance signs with it from
its next start. Superseded keys stay published until their tokens expired.`,
  options: {},
  async run({ config }) {
    const settings = config();
    const { added, retired } = await rotateKeys(settings.keysDir, { retentionSeconds: keyRetentionSeconds(settings) });
    const lines = [`added keys: ${added.join(', ')}`];
    if (retired.length > 0) lines.push(`retired keys: ${retired.join(', ')}`);
    lines.push('The new keys are published now; each instance signs with them from its next start.');
    return { data: { added, retired }, text: lines.join('\n') };
  },
});

// Slot: keys:list belongs to the key-storage rework. Define it here and add it to ../commands/index.ts.
