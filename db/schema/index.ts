export * from './users.ts';
export * from './audit.ts';
export * from './oidc.ts';
export * from './clients.ts';
export * from './rate-limits.ts';
export * from './mail.ts';
export * from './resources.ts';
export * from './mfa.ts';
