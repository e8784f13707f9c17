import type { Deps } from '../deps.ts';
import type { RequestMeta } from '../services/audit.ts';

export interface Context {
  deps: Deps;
  meta: RequestMeta;
  /** The raw Authorization header, read only by authedProcedure. */
  authorization: string | null;
}

/** The inner factory: tests build contexts with it directly, without HTTP. */
export function createContext(deps: Deps, { meta, authorization = null }: { meta: RequestMeta; authorization?: string | null }): Context {
  return { deps, meta, authorization };
}
