import { router } from './init.ts';
import { authRouter } from './routers/auth.ts';
import { meRouter } from './routers/me.ts';

export const appRouter = router({
  auth: authRouter,
  me: meRouter,
});

export type AppRouter = typeof appRouter;
