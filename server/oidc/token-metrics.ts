// Counts every access token issued: JWTs emit `*.issued`, opaque tokens `*.saved`.
import type Provider from 'oidc-provider';
import type { Metrics } from '../metrics.ts';
import { FIRST_PARTY_GTY } from './provider.ts';

type Grant = 'login' | 'refresh_token' | 'authorization_code' | 'client_credentials' | 'other';

function grantOf(gty: unknown): Grant {
  if (typeof gty !== 'string') return 'other';
  // A refreshed token's gty is the original grant followed by " refresh_token".
  if (gty.endsWith('refresh_token')) return 'refresh_token';
  if (gty === FIRST_PARTY_GTY) return 'login';
  if (gty === 'authorization_code') return 'authorization_code';
  return 'other';
}

export function countIssuedTokens(provider: Provider, metrics: Metrics): void {
  const access = (token: { gty?: unknown }) => metrics.tokensIssued.inc({ grant: grantOf(token.gty) });
  const clientCredentials = () => metrics.tokensIssued.inc({ grant: 'client_credentials' });
  provider.on('access_token.issued', access);
  provider.on('access_token.saved', access);
  provider.on('client_credentials.issued', clientCredentials);
  provider.on('client_credentials.saved', clientCredentials);
}
