// Waiting for a server to finish work that a load run left behind: autocannon stops at its
// deadline, but requests already accepted (a queue of bcrypt verifies, say) go on using the CPU and
// would be billed to whatever is measured next.
import { readFile } from 'node:fs/promises';

/** CPU time the process has used (user + system), in ticks of 1/100 s; null off Linux. */
export async function cpuTicks(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return null;
  }
}

/** Resolves once `pid` used under ~10% of a core over 300 ms, or after `maxMs`. */
export async function waitQuiet(pid: number, maxMs = 30_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let before = await cpuTicks(pid);
  if (before === null) return;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await cpuTicks(pid);
    if (now === null) return;
    // Ticks are 1/100 s: 3 ticks in 300 ms is 10% of one core.
    if (now - before <= 3) return;
    before = now;
  }
}
