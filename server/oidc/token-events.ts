// What runs after the token endpoint answers, for /oidc/token and auth.refresh alike: the failure limit,
// then the audit trail and session bookkeeping, awaited, so that a refresh never passes unrecorded.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../../db/client.ts';
import { AppError, ERROR_STATUS, oauthErrorOf } from '../errors.ts';
import { requestMeta } from '../request/meta.ts';
import type { RequestMeta } from '../common/audit-events.ts';
import type { Audit } from '../services/audit.ts';
import type { FailureLimiter } from '../services/rate-limits/limiter.ts';
import { endSession, recordSession, sessionKeyOf, touchSession } from '../services/sessions.ts';

/** oidc-provider's error_detail when a rotated refresh token is presented again. */
const REUSE_DETECTED = 'refresh token already used';

export function trackTokenEndpoint(provider: Provider, { db, audit, limit }: { db: Db; audit: Audit; limit: FailureLimiter }): void {
  // The response says only "grant request is invalid"; the reason travels on the error event,
  // which fires (synchronously) before the middleware below resumes.
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: { error_detail?: unknown }) => {
    ctx.state.grantErrorDetail = error.error_detail;
  });

  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next();
    if (ctx.oidc?.route !== 'token') return;
    const failed = ctx.status >= 400 && ctx.status < 500;
    const grantType = ctx.oidc.params?.grant_type;
    if (!failed && grantType !== 'authorization_code' && grantType !== 'refresh_token') return;
    const meta = requestMeta(ctx);
    // Over the limit, the failure is answered with a 429 and leaves one rate_limited row, not one row each.
    if (failed && !(await withinLimit(ctx, limit, meta))) return;
    await record(ctx, db, audit, meta);
  });
}

/** Counts a failed token request, by client_id once the client authenticated, else by address; over
 *  the limit, answers with the refusal and returns false. */
async function withinLimit(ctx: KoaContextWithOIDC, limit: FailureLimiter, meta: RequestMeta): Promise<boolean> {
  const client = ctx.oidc.client;
  const authenticated = client !== undefined && client.clientAuthMethod !== 'none' && (ctx.body as { error?: unknown } | undefined)?.error !== 'invalid_client';
  try {
    await limit.failed(authenticated ? client.clientId : '', meta, { metadata: { clientId: client?.clientId } });
    return true;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    ctx.status = ERROR_STATUS[error.code].http;
    if (error.details.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.details.retryAfterSeconds));
    ctx.body = oauthErrorOf(error);
    return false;
  }
}

async function record(ctx: KoaContextWithOIDC, db: Db, audit: Audit, meta: RequestMeta): Promise<void> {
  const grantType = ctx.oidc.params?.grant_type;
  // A code exchanged for tokens starts a session that the user can list and revoke.
  if (grantType === 'authorization_code' && ctx.status === 200) {
    const code = ctx.oidc.entities.AuthorizationCode;
    const grant = ctx.oidc.entities.Grant;
    if (code?.grantId && code.accountId && ctx.oidc.client) {
      const expiresAt = new Date((grant?.exp ?? Math.floor(Date.now() / 1000) + 86_400) * 1000);
      await recordSession(db, { grantId: code.grantId, userId: code.accountId, clientId: ctx.oidc.client.clientId, meta, expiresAt });
      await touchSession(db, code.grantId);
    }
    return;
  }
  if (grantType !== 'refresh_token') return;

  const token = ctx.oidc.entities.RotatedRefreshToken ?? ctx.oidc.entities.RefreshToken;
  const userId = token?.accountId ?? null;
  const clientId = ctx.oidc.client?.clientId;

  if (ctx.status === 200) {
    if (token?.grantId) await touchSession(db, token.grantId);
    await audit.record({ type: 'refresh', success: true, userId, ...meta, metadata: { clientId } });
    return;
  }
  const detail: unknown = ctx.state.grantErrorDetail;
  const reused = detail === REUSE_DETECTED;
  // The provider has already revoked the grant and its tokens; drop the session record with them.
  if (reused && token?.grantId) await endSession(db, sessionKeyOf(token.grantId));
  await audit.record({
    type: reused ? 'refresh_reuse_detected' : 'refresh',
    success: false,
    userId,
    reason: typeof detail === 'string' ? detail : 'invalid_grant',
    ...meta,
    metadata: { clientId },
  });
}
