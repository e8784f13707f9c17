import { auditListInput, auditSuspiciousInput } from '../../../services/audit-queries.ts';
import { auditPageView, suspiciousReportView } from '../../../common/outputs.ts';
import { requirePermission, router } from '../../init.ts';

const tags = ['Audit'];

export const adminAuditRouter = router({
  list: requirePermission('audit:read')
    .meta({ openapi: { method: 'GET', path: '/admin/audit', tags, summary: 'The audit trail, newest first, with filters and a cursor', errorResponses: [400, 401, 403] } })
    .input(auditListInput)
    .output(auditPageView)
    .query(({ ctx, input }) => ctx.deps.auditLog.list(input)),

  suspicious: requirePermission('audit:read')
    .meta({
      openapi: {
        method: 'GET',
        path: '/admin/audit/suspicious',
        tags,
        summary: 'IPs and accounts with many failed logins in a window',
        errorResponses: [400, 401, 403],
      },
    })
    .input(auditSuspiciousInput)
    .output(suspiciousReportView)
    .query(({ ctx, input }) => ctx.deps.auditLog.suspicious(input)),
});
