// Reference for login: raw @node-rs/bcrypt verify at the service's cost and concurrency, in a process
// of its own with the same libuv thread pool (the service's verify runs there too). `concurrency`
// verifies are kept in flight for `duration` seconds, and completions are counted the way the load
// generator counts responses: finished before the deadline, divided by the duration.
//
// argv: cost concurrency durationSeconds; prints one JSON line.
import { hash, verify } from '@node-rs/bcrypt';

const [cost, concurrency, duration] = process.argv.slice(2).map(Number) as [number, number, number];
const password = 'Bench-Password-1';
const stored = await hash(password, { cost });

async function measure(seconds: number): Promise<{ count: number; latencies: number[] }> {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  let count = 0;
  const loop = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      if (!(await verify(password, stored))) throw new Error('bcrypt verify failed');
      const ended = performance.now();
      if (ended <= deadline) {
        count += 1;
        latencies.push(ended - started);
      }
    }
  };
  for (let i = 0; i < concurrency; i += 1) void loop();
  // Verifies still in flight at the deadline are abandoned, as the load generator abandons requests.
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return { count, latencies: [...latencies] };
}

const { count, latencies } = await measure(duration);
latencies.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))] ?? null;
process.stdout.write(`${JSON.stringify({ throughput: count / duration, p50Ms: at(50), p99Ms: at(99) })}\n`, () => process.exit(0));
