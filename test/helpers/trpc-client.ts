// Assertions on what the typed client throws.
import { expect } from 'vitest';
import { TRPCClientError } from '../../client/src/index.ts';

/** The call fails with the tRPC code UNAUTHORIZED. */
export async function expectUnauthorized(call: Promise<unknown>): Promise<void> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  expect((error as TRPCClientError<any>).data?.code).toBe('UNAUTHORIZED');
}
