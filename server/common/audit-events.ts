// The audit trail's event types, and where a request came from.

export const AUDIT_EVENT_TYPES = [
  'register',
  'login',
  'login_failed',
  'logout',
  'refresh',
  'refresh_reuse_detected',
  'password_changed',
  'rate_limited',
  'session_revoked',
  'user_created',
  'user_updated',
  'user_deleted',
  'role_changed',
  'client_created',
  'client_updated',
  'client_deleted',
  'access_denied',
  'password_reset_requested',
  'password_reset',
  'email_verification_sent',
  'email_verified',
  'email_change_requested',
  'email_changed',
  'resource_changed',
  'mfa_enabled',
  'mfa_disabled',
  'mfa_failed',
  'mfa_recovery_used',
  'mfa_recovery_codes_regenerated',
  'key_rotated',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  /** The client of a client_credentials token that acts (machine-to-machine); recorded in the metadata. */
  actorClientId?: string | undefined;
}
