import type { Deps } from '../deps.ts';
import type { RequestMeta } from '../services/audit.ts';

export interface Context {
  deps: Deps;
  meta: RequestMeta;
  /** The raw Authorization header, read only by authedProcedure. */
  authorization: string | null;
  /** Told the user id once authedProcedure has one (the access log names the user). */
  onAuthenticated?: ((userId: string) => void) | undefined;
}

/** The inner factory: tests build contexts with it directly, without HTTP. */
export function createContext(
  deps: Deps,
  { meta, authorization = null, onAuthenticated }: { meta: RequestMeta; authorization?: string | null; onAuthenticated?: (userId: string) => void },
): Context {
  return { deps, meta, authorization, onAuthenticated };
}
