import { loadUser } from '../../services/users.ts';
import { authedProcedure, router } from '../init.ts';

export const meRouter = router({
  get: authedProcedure.query(({ ctx }) => loadUser(ctx.deps.database.db, ctx.user)),
});
