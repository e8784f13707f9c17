// admin.users.list over 1,000,000 users: not measured yet.
import type { BenchContext } from '../context.ts';
import type { ScenarioResult } from '../report.ts';

export async function adminUsersList(_ctx: BenchContext): Promise<ScenarioResult> {
  return { name: 'admin.users.list', throughput: null, p50Ms: null, p99Ms: null, reference: null, ratio: null, target: 50, note: 'not measured yet' };
}
