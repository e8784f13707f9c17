// The errors that mean "this configuration cannot start": the server and the CLI print their
// message alone, without a stack, and exit 1.
import { PendingMigrationsError } from '../db/client.ts';
import { ConfigError } from './config.ts';
import { KeysMissingError } from './oidc/keystore.ts';
import { WrongEncryptionKeyError } from './services/signing-keys.ts';

const REFUSALS = [ConfigError, KeysMissingError, WrongEncryptionKeyError, PendingMigrationsError];

export function isStartRefusal(error: unknown): error is Error {
  return REFUSALS.some((refusal) => error instanceof refusal);
}
