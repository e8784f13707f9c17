import { auditListInput, auditSuspiciousInput, listAuditEvents, suspiciousActivity } from '../../../services/audit-queries.ts';
import { auditPageView, suspiciousReportView } from '../../../views.ts';
import { requirePermission, router } from '../../init.ts';
import { flag, integer } from '../../inputs.ts';

const tags = ['Audit'];

export const adminAuditRouter = router({
  list: requirePermission('audit:read')
    .meta({ openapi: { method: 'GET', path: '/admin/audit', tags, summary: 'The audit trail, newest first, with filters and a cursor', errorResponses: [400, 401, 403] } })
    // Booleans and numbers arrive as text in a query string: the strict parsers of inputs.ts.
    .input(auditListInput.extend({ success: flag.optional(), limit: integer(1, 100).default(50) }))
    .output(auditPageView)
    .query(({ ctx, input }) => listAuditEvents(ctx.deps.database.db, input)),

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
    .input(auditSuspiciousInput.extend({ windowMinutes: integer(1, 7 * 24 * 60).default(60), threshold: integer(1, 1_000_000).default(10) }))
    .output(suspiciousReportView)
    .query(({ ctx, input }) => suspiciousActivity(ctx.deps.database.db, input)),
});
