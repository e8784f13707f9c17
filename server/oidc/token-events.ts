// Audit and session bookkeeping around the provider's token endpoint. It sees every code exchange
// and every refresh, the
// ones from /oidc/token and the ones auth.refresh hands over in process, and awaits its writes,
// so a refresh that cannot be recorded does not silently pass.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../../db/client.ts';
import { requestMeta } from '../request/meta.ts';
import type { Audit } from '../services/audit.ts';
import { endSession, recordSession, sessionKeyOf, touchSession } from '../services/sessions.ts';

/** oidc-provider's error_detail when a rotated refresh token is presented again. */
const REUSE_DETECTED = 'refresh token already used';

export function trackTokenEndpoint(provider: Provider, { db, audit }: { db: Db; audit: Audit }): void {
  // The response says only "grant request is invalid"; the reason travels on the error event,
  // which fires (synchronously) before the middleware below resumes.
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: { error_detail?: unknown }) => {
    ctx.state.grantErrorDetail = error.error_detail;
  });

  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next();
    if (ctx.oidc?.route !== 'token') return;
    const grantType = ctx.oidc.params?.grant_type;
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') return;
    const meta = requestMeta(ctx);

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
  });
}
