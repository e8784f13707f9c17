// Keeps the provider's keystore and cookie secrets in step with the database: every instance polls
// the key set and, when a key or secret was added, activated, retired or removed, rebuilds the
// keystore the way the provider's constructor builds it and replaces the secrets. Nothing restarts;
// tokens in flight keep verifying, and browser sessions stay signed in.
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import { toPublicJwk, type PrivateJwk } from '../common/jwk.ts';
import type { Logger } from '../logger.ts';
import type { LoadedKeys, SigningKeys } from '../services/signing-keys.ts';

/** The public keys as last loaded; `version` names the key set, and changes with it. */
export interface PublishedKeys {
  get(): Promise<{ keys: JWK[]; version: string }>;
}

export interface LiveKeys {
  published: PublishedKeys;
  /** The private keys in signing order, as the provider holds them now. */
  signing(): PrivateJwk[];
  /** Checks the database now; true when the keystore changed. */
  refresh(): Promise<boolean>;
  stop(): void;
}

export function replaceSigningKeys(provider: Provider, signing: PrivateJwk[]): void {
  initializeKeystore.call(provider, { keys: signing });
}

export function watchKeys({ provider, signingKeys, initial, pollMs, log }: { provider: Provider; signingKeys: SigningKeys; initial: LoadedKeys; pollMs: number; log: Logger }): LiveKeys {
  let current = initial;
  let publicKeys = initial.signing.map(toPublicJwk);
  // One array of cookie secrets, shared by the provider, the host app (Koa reads app.keys per
  // request), the login guard and the hosted pages: a rotation replaces its contents in place.
  const cookieSecrets = initial.cookieSecrets;
  provider.keys = cookieSecrets;
  let running: Promise<boolean> | undefined;

  async function check(): Promise<boolean> {
    if ((await signingKeys.version()) === current.version) return false;
    const next = await signingKeys.load();
    replaceSigningKeys(provider, next.signing);
    cookieSecrets.splice(0, cookieSecrets.length, ...next.cookieSecrets);
    const before = current.version;
    current = { ...next, cookieSecrets };
    publicKeys = next.signing.map(toPublicJwk);
    log.info({ from: before, to: next.version }, 'signing keys changed');
    return true;
  }

  // One check at a time: a slow database never piles polls up.
  const refresh = () => (running ??= check().finally(() => (running = undefined)));
  const timer =
    pollMs > 0
      ? setInterval(() => {
          refresh().catch((error: unknown) => log.warn({ err: error }, 'signing keys not refreshed; the last set stays in use'));
        }, pollMs).unref()
      : undefined;

  return {
    published: { get: async () => ({ keys: publicKeys, version: current.version }) },
    signing: () => current.signing,
    refresh,
    stop: () => clearInterval(timer),
  };
}
