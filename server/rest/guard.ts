// trpc-to-openapi sets zod's coerce flag, in place, on every bare boolean, number, bigint or date of a
// REST input, and coercion is truthiness ("false" → true): refuse to serve such an input.
import type { AnyTRPCRouter } from '@trpc/server';
import { forEachOpenApiProcedure, getInputOutputParsers, instanceofZodTypeCoercible, instanceofZodTypeObject, unwrapZodType } from 'trpc-to-openapi';

type Shape = Record<string, unknown>;

export function assertNoCoercedInputs(router: AnyTRPCRouter): void {
  forEachOpenApiProcedure(router._def.procedures, ({ path, procedure }) => {
    const input = unwrapZodType(getInputOutputParsers(procedure).inputParser, true);
    if (instanceofZodTypeObject(input)) visit(path, input.shape);
  });
}

function visit(where: string, shape: Shape): void {
  for (const [key, field] of Object.entries(shape)) {
    const inner = unwrapZodType(field as Parameters<typeof unwrapZodType>[0], false);
    if (instanceofZodTypeCoercible(inner)) {
      throw new Error(`REST input ${where}.${key} is a bare ${inner._zod.def.type}: use boolOrText or intOrText from server/common/inputs.ts`);
    }
    if (instanceofZodTypeObject(inner)) visit(`${where}.${key}`, inner.shape);
  }
}
