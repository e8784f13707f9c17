// Login and reuse-detection metrics are counted from the audit trail, so the two never disagree.
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { AuditHooks } from './audit.ts';

export function auditMetricsHook({ log, metrics }: { log: Logger; metrics: Metrics }): AuditHooks {
  return {
    onRecorded(event) {
      if (event.type === 'login') {
        metrics.logins.inc({ outcome: 'success' });
        metrics.loginFactors.inc({ factor: String(event.metadata?.factor ?? 'pwd') });
      }
      else if (event.type === 'login_failed') metrics.logins.inc({ outcome: 'failure' });
      else if (event.type === 'refresh_reuse_detected') metrics.refreshReuseDetected.inc();
    },
    onWriteFailed(event, error) {
      metrics.auditWriteFailures.inc({ type: event.type });
      log.error({ err: error, auditType: event.type, userId: event.userId ?? undefined }, 'audit write failed; request refused');
    },
  };
}
