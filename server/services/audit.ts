// The audit trail: one row per event. Never given a password, token or secret.
import type { Db } from '../../db/client.ts';
import { authEvents } from '../../db/schema/index.ts';
import { AppError } from '../errors.ts';
import type { AuditEventType, RequestMeta } from '../common/audit-events.ts';

export interface AuditEvent extends RequestMeta {
  type: AuditEventType;
  success: boolean;
  userId?: string | null;
  actorId?: string | null;
  reason?: string | null;
  metadata?: Record<string, unknown>;
}

export interface Audit {
  /** Awaited: when the trail cannot be written, the request fails with UNAVAILABLE rather than pass unrecorded. */
  record(event: AuditEvent, db?: Db): Promise<void>;
}

export interface AuditHooks {
  onRecorded?(event: AuditEvent): void;
  onWriteFailed?(event: AuditEvent, error: unknown): void;
}

export function createAudit(db: Db, hooks: AuditHooks = {}): Audit {
  return {
    async record(event, tx = db) {
      try {
        await tx.insert(authEvents).values({
          type: event.type,
          success: event.success,
          userId: event.userId ?? null,
          actorId: event.actorId ?? null,
          ip: event.ip?.slice(0, 64) ?? null,
          userAgent: event.userAgent?.slice(0, 512) ?? null,
          reason: event.reason ?? null,
          metadata: event.actorClientId ? { ...event.metadata, actorClientId: event.actorClientId } : (event.metadata ?? {}),
        });
      } catch (error) {
        hooks.onWriteFailed?.(event, error);
        throw new AppError('UNAVAILABLE', 'Service temporarily unavailable');
      }
      hooks.onRecorded?.(event);
    },
  };
}
