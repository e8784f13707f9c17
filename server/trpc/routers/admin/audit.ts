import { auditListInput, auditSuspiciousInput, listAuditEvents, suspiciousActivity } from '../../../services/audit-queries.ts';
import { requirePermission, router } from '../../init.ts';

export const adminAuditRouter = router({
  list: requirePermission('audit:read')
    .input(auditListInput)
    .query(({ ctx, input }) => listAuditEvents(ctx.deps.database.db, input)),

  suspicious: requirePermission('audit:read')
    .input(auditSuspiciousInput)
    .query(({ ctx, input }) => suspiciousActivity(ctx.deps.database.db, input)),
});
