// The result of a run, in the JSON shape test/bench/README.md documents, and its table on stdout.
import { cpus } from 'node:os';
import type { ScenarioName } from './options.ts';

export interface Reference {
  name: string;
  throughput: number;
}

export interface ScenarioResult {
  name: ScenarioName;
  /** Requests (or operations) per second; null when the scenario measures no throughput. */
  throughput: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  reference: Reference | null;
  ratio: number | null;
  /** What the ratio (or, without a reference, the named figure) must reach; null when none is set. */
  target: number | null;
  /** Scenario-specific figures (p95Ms, rssMb, startupMs, jwtOnlyThroughput, ...), and notes. */
  [extra: string]: unknown;
}

export interface Report {
  machine: { cpus: number; node: string; db: 'pglite' | 'postgres'; [extra: string]: unknown };
  scenarios: ScenarioResult[];
}

export function machineInfo(db: 'pglite' | 'postgres'): Report['machine'] {
  const list = cpus();
  return { cpus: list.length, node: process.version, db, cpuModel: list[0]?.model ?? 'unknown', platform: `${process.platform}-${process.arch}` };
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

export function ratioOf(throughput: number, reference: number): number | null {
  return reference > 0 ? round(throughput / reference, 3) : null;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value below which `p` percent of `sorted` (ascending) fall, nearest-rank. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const fmt = (n: unknown, digits = 1): string => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '-');

function verdict(s: ScenarioResult): string {
  if (s.target === null) return '';
  if (s.ratio !== null) return s.ratio >= s.target ? 'met' : 'MISSED';
  if (typeof s.p95Ms === 'number') {
    const deepOk = typeof s.deepP95Ms !== 'number' || s.deepP95Ms < s.target;
    return s.p95Ms < s.target && deepOk && s.growthOk !== false ? 'met' : 'MISSED';
  }
  return '';
}

/** One line per scenario: the figures, the reference measured in the same run, the ratio and target. */
export function formatTable(report: Report): string {
  const head = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'reference', 'ref/s', 'ratio', 'target', ''];
  const rows = report.scenarios.map((s) => [
    s.name,
    fmt(s.throughput),
    fmt(s.p50Ms, 2),
    fmt(s.p99Ms, 2),
    s.reference?.name ?? '-',
    fmt(s.reference?.throughput),
    fmt(s.ratio, 3),
    s.target === null ? '-' : s.ratio !== null ? `>= ${s.target}` : `p95 < ${s.target} ms`,
    verdict(s),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const m = report.machine;
  const out = [`machine: ${m.cpus} cpus (${String(m.cpuModel)}), node ${m.node}, db ${m.db}`, '', line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const notes = report.scenarios.flatMap((s) => {
    const extras = Object.entries(s)
      .filter(([k]) => !['name', 'throughput', 'p50Ms', 'p99Ms', 'reference', 'ratio', 'target', 'note'].includes(k))
      .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v, 2) : JSON.stringify(v)}`);
    const lines = extras.length > 0 ? [`  ${s.name}: ${extras.join(', ')}`] : [];
    if (typeof s.note === 'string') lines.push(`  ${s.name}: ${s.note}`);
    return lines;
  });
  if (notes.length > 0) out.push('', ...notes);
  return out.join('\n');
}
