// The Redis of the machine (127.0.0.1:6379, or REDIS_URL), when one answers; tests that need it skip
// otherwise. Keys of a test run carry a random prefix, so runs sharing the server never collide.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

export async function redisAnswers(url = REDIS_URL): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export function randomKeyPrefix(): string {
  return `gatehouse-test-${randomBytes(6).toString('hex')}`;
}
