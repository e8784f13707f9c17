import { authedProcedure, publicProcedure, router, z } from '../init.ts';
import { email, name, password, token } from '../inputs.ts';

export const authRouter = router({
  register: publicProcedure
    .input(z.strictObject({ email, password, name: name.optional() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.rateLimits.register.begin('', ctx.meta);
      return ctx.deps.auth.register(input, ctx.meta);
    }),

  login: publicProcedure
    .input(z.strictObject({ email, password }))
    .mutation(async ({ ctx, input }) => {
      // Keyed by the email as typed (normalized), known or not: a refusal says nothing about it.
      const attempt = await ctx.deps.rateLimits.login.begin(input.email, ctx.meta, { metadata: { email: input.email } });
      const tokens = await ctx.deps.auth.login(input, ctx.meta);
      await attempt.succeeded();
      return tokens;
    }),

  refresh: publicProcedure
    .input(z.strictObject({ refreshToken: token }))
    .mutation(async ({ ctx, input }) => {
      const attempt = await ctx.deps.rateLimits.refresh.begin('', ctx.meta);
      const tokens = await ctx.deps.auth.refresh(input.refreshToken, ctx.meta);
      await attempt.succeeded();
      return tokens;
    }),

  logout: publicProcedure
    .input(z.strictObject({ refreshToken: token }))
    .mutation(({ ctx, input }) => ctx.deps.auth.logout(input.refreshToken, ctx.meta)),

  logoutAll: authedProcedure.mutation(({ ctx }) => ctx.deps.auth.logoutAll(ctx.user.id, ctx.meta)),

  verify: publicProcedure
    .input(z.strictObject({ token }))
    .query(async ({ ctx, input }) => {
      const attempt = await ctx.deps.rateLimits.verify.begin('', ctx.meta);
      const result = await ctx.deps.auth.verify(input.token);
      if (result.active) await attempt.succeeded();
      return result;
    }),
});
