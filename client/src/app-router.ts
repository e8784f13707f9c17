// The server's router, as a type only: nothing of the server runs in the client. The package
// build (build/build.ts) replaces this file with a standalone declaration of the same router, so
// the published types never reach into server/ or its dependencies.
export type { AppRouter } from '../../server/trpc/router.ts';
