// The server's router, as a type only. build/build.ts swaps this file for a standalone declaration
// of the same router, so the published types never reach into server/.
export type { AppRouter } from '../../server/trpc/router.ts';
