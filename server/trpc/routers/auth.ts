import { successView, tokenSetView, verifyResultView } from '../../views.ts';
import { authedProcedure, publicProcedure, router, z } from '../init.ts';
import { email, name, password, token } from '../inputs.ts';

export const authRouter = router({
  register: publicProcedure
    .input(z.strictObject({ email, password, name: name.optional() }))
    .output(tokenSetView)
    .mutation(({ ctx, input }) => ctx.deps.auth.register(input, ctx.meta)),

  login: publicProcedure
    .input(z.strictObject({ email, password }))
    .output(tokenSetView)
    .mutation(({ ctx, input }) => ctx.deps.auth.login(input, ctx.meta)),

  refresh: publicProcedure
    .input(z.strictObject({ refreshToken: token }))
    .output(tokenSetView)
    .mutation(({ ctx, input }) => ctx.deps.auth.refresh(input.refreshToken, ctx.meta)),

  logout: publicProcedure
    .input(z.strictObject({ refreshToken: token }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.auth.logout(input.refreshToken, ctx.meta)),

  logoutAll: authedProcedure
    .output(successView)
    .mutation(({ ctx }) => ctx.deps.auth.logoutAll(ctx.user.id, ctx.meta)),

  verify: publicProcedure
    .input(z.strictObject({ token }))
    .output(verifyResultView)
    .query(({ ctx, input }) => ctx.deps.auth.verify(input.token)),
});
