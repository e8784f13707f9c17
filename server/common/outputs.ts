// What the API answers, as zod schemas: the services' types, the procedures' output (tRPC strips any
// field not listed, so a hash cannot leak) and the OpenAPI components.
import { z } from 'zod';
import { AUDIT_EVENT_TYPES } from './audit-events.ts';

const timestamp = z.iso.datetime();

export const userView = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    emailVerified: z.boolean(),
    isActive: z.boolean(),
    roles: z.array(z.string()),
    mfaEnabled: z.boolean(),
    createdAt: timestamp,
    lastLoginAt: timestamp.nullable(),
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof userView>;

/** What users may set about themselves; everything else (roles, status, verification) is not theirs. */
export const profileView = z.object({
  name: z.string().nullable(),
  givenName: z.string().nullable(),
  familyName: z.string().nullable(),
  picture: z.string().nullable(),
  locale: z.string().nullable(),
  zoneinfo: z.string().nullable(),
});
export type Profile = z.infer<typeof profileView>;

export const userWithProfileView = userView.extend(profileView.shape).meta({ id: 'UserWithProfile' });
export type UserWithProfile = z.infer<typeof userWithProfileView>;

export const tokenSetView = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.int().meta({ description: 'Seconds until the access token expires' }),
    user: userView,
  })
  .meta({ id: 'TokenSet' });
export type TokenSet = z.infer<typeof tokenSetView>;

export const MFA_METHODS = ['totp', 'recovery_code'] as const;

export const mfaChallengeView = z
  .object({
    mfaRequired: z.literal(true),
    mfaToken: z.string().meta({ description: 'For auth.verifyMfa: single use, 5 minutes, 5 wrong codes' }),
    methods: z.array(z.enum(MFA_METHODS)),
  })
  .meta({ id: 'MfaChallenge' });
export type MfaChallenge = z.infer<typeof mfaChallengeView>;

export const mfaEnrollmentView = z
  .object({
    mfaEnrollmentRequired: z.literal(true),
    enrollmentToken: z.string().meta({ description: 'A bearer token good only for me.mfa.totp.begin and me.mfa.totp.confirm' }),
    expiresIn: z.int().meta({ description: 'Seconds until the enrollment token expires' }),
  })
  .meta({ id: 'MfaEnrollmentRequired' });
export type MfaEnrollment = z.infer<typeof mfaEnrollmentView>;

/** auth.login's answer: tokens, or the second factor still to give (or, under MFA_REQUIRED_ROLES, to enrol). */
export const loginResultView = z.union([tokenSetView, mfaChallengeView, mfaEnrollmentView]).meta({ id: 'LoginResult' });
export type LoginResult = z.infer<typeof loginResultView>;

export const totpEnrollmentView = z
  .object({
    secret: z.string().meta({ description: 'Base32, for typing into an authenticator app' }),
    otpauthUrl: z.string(),
    qrSvg: z.string().meta({ description: 'The otpauth URL as a QR code, an SVG document' }),
  })
  .meta({ id: 'TotpEnrollment' });

export const recoveryCodesView = z
  .object({
    recoveryCodes: z.array(z.string()).meta({ description: 'Shown once: each works once in place of a code' }),
    tokens: tokenSetView.optional().meta({ description: 'When enrolment was required at sign-in: the tokens of that sign-in' }),
  })
  .meta({ id: 'RecoveryCodes' });

export const verifyResultView = z
  .discriminatedUnion('active', [
    z.object({ active: z.literal(false) }),
    z.object({
      active: z.literal(true),
      sub: z.string(),
      clientId: z.string(),
      scope: z.string(),
      roles: z.array(z.string()),
      permissions: z.array(z.string()),
      sid: z.string().nullable(),
      exp: z.int(),
    }),
  ])
  .meta({ id: 'VerifyResult' });
export type VerifyResult = z.infer<typeof verifyResultView>;

export const sessionView = z
  .object({
    id: z.string(),
    createdAt: timestamp,
    lastUsedAt: timestamp.meta({ description: 'The last sign-in or refresh' }),
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    current: z.boolean().meta({ description: 'Whether this is the session of the calling token' }),
  })
  .meta({ id: 'Session' });
export type SessionView = z.infer<typeof sessionView>;

export const userPageView = z
  .object({
    items: z.array(userView),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page' }),
    total: z.int().meta({ description: 'Users matching the filters, on every page' }),
  })
  .meta({ id: 'UserPage' });
export type UserPage = z.infer<typeof userPageView>;

export const roleView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    permissions: z.array(z.string()).meta({ description: 'Permissions of Gatehouse\'s API and of registered resources' }),
    builtIn: z.boolean(),
    userCount: z.int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Role' });
export type RoleView = z.infer<typeof roleView>;

export const clientView = z
  .object({
    clientId: z.string(),
    name: z.string(),
    grantTypes: z.array(z.string()),
    redirectUris: z.array(z.string()),
    postLogoutRedirectUris: z.array(z.string()),
    public: z.boolean(),
    scopes: z.array(z.string()),
    firstParty: z.boolean(),
    pkceRequired: z.boolean().meta({ description: 'False only for a confidential client an admin exempted from PKCE' }),
    roles: z.array(z.string()).meta({ description: 'Roles whose permissions its client_credentials tokens carry' }),
    createdAt: timestamp,
  })
  .meta({ id: 'Client' });
export type ClientView = z.infer<typeof clientView>;

export const createdClientView = z
  .object({
    clientId: z.string(),
    clientSecret: z.string().optional().meta({ description: 'Confidential clients only; shown this once, stored only as a digest' }),
  })
  .meta({ id: 'CreatedClient' });
export type CreatedClient = z.infer<typeof createdClientView>;

export const resourceView = z
  .object({
    identifier: z.string().meta({ description: 'An absolute URL: the audience of its access tokens' }),
    name: z.string(),
    permissions: z.array(z.object({ name: z.string(), description: z.string().nullable() })),
    accessTokenTtl: z.int().nullable().meta({ description: 'Seconds; null means ACCESS_TOKEN_TTL' }),
    builtIn: z.boolean().meta({ description: 'Gatehouse\'s own API, which cannot be changed' }),
    createdAt: timestamp.nullable(),
    updatedAt: timestamp.nullable(),
  })
  .meta({ id: 'ApiResource' });
export type ResourceView = z.infer<typeof resourceView>;

export const successView = z.object({ success: z.literal(true) }).meta({ id: 'Success' });

export const auditEventView = z
  .object({
    id: z.uuid(),
    type: z.enum(AUDIT_EVENT_TYPES),
    userId: z.uuid().nullable(),
    actorId: z.uuid().nullable().meta({ description: 'The admin who acted, for admin changes' }),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    success: z.boolean(),
    reason: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: timestamp,
  })
  .meta({ id: 'AuditEvent' });
export type AuditEventView = z.infer<typeof auditEventView>;

export const auditPageView = z
  .object({
    items: z.array(auditEventView),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page' }),
  })
  .meta({ id: 'AuditPage' });
export type AuditPage = z.infer<typeof auditPageView>;

export const suspiciousReportView = z
  .object({
    since: timestamp,
    windowMinutes: z.int(),
    threshold: z.int(),
    ips: z.array(z.object({ ip: z.string().nullable(), failures: z.int(), accounts: z.int(), lastAt: timestamp })),
    accounts: z.array(z.object({ email: z.string().nullable(), userId: z.uuid().nullable(), failures: z.int(), ips: z.int(), lastAt: timestamp })),
  })
  .meta({ id: 'SuspiciousReport' });
export type SuspiciousReport = z.infer<typeof suspiciousReportView>;
