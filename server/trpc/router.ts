import { router } from './init.ts';
import { adminAuditRouter } from './routers/admin/audit.ts';
import { adminClientsRouter } from './routers/admin/clients.ts';
import { adminResourcesRouter } from './routers/admin/resources.ts';
import { adminRolesRouter } from './routers/admin/roles.ts';
import { adminUsersRouter } from './routers/admin/users.ts';
import { authRouter } from './routers/auth.ts';
import { meRouter } from './routers/me.ts';

export const appRouter = router({
  auth: authRouter,
  me: meRouter,
  admin: router({
    users: adminUsersRouter,
    roles: adminRolesRouter,
    clients: adminClientsRouter,
    resources: adminResourcesRouter,
    audit: adminAuditRouter,
  }),
});

export type AppRouter = typeof appRouter;
