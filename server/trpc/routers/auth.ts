import { successView, tokenSetView, verifyResultView } from '../../common/outputs.ts';
import { authedProcedure, publicProcedure, router, z } from '../init.ts';
import { email, name, password, token } from '../../common/inputs.ts';

const tags = ['Sign-in'];

export const authRouter = router({
  register: publicProcedure
    .meta({
      openapi: { method: 'POST', path: '/auth/register', protect: false, tags, summary: 'Create an account and sign in', errorResponses: [400, 409] },
      created: true,
    })
    .input(z.strictObject({ email, password, name: name.optional() }))
    .output(tokenSetView)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.rateLimits.register.begin('', ctx.meta);
      const tokens = await ctx.deps.auth.register(input, ctx.meta);
      ctx.deps.loginGuard.remember(input.email, ctx.device);
      return tokens;
    }),

  login: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/login',
        protect: false,
        tags,
        summary: 'Sign in with email and password',
        description: 'A wrong password, an unknown email and a disabled account all get the same 401.',
        errorResponses: [400, 401, 429],
      },
    })
    .input(z.strictObject({ email, password }))
    .output(tokenSetView)
    .mutation(async ({ ctx, input }) => {
      // Keyed by the email as typed (normalized), known or not: a refusal says nothing about it.
      return ctx.deps.loginGuard.run(input.email, ctx.meta, ctx.device, {}, () => ctx.deps.auth.login(input, ctx.meta));
    }),

  refresh: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/refresh',
        protect: false,
        tags,
        summary: 'Trade a refresh token for new tokens',
        description: 'The refresh token is rotated: use the new one next time. Using an old one again ends the session.',
        errorResponses: [400, 401],
      },
    })
    .input(z.strictObject({ refreshToken: token }))
    .output(tokenSetView)
    // Limited as a request to /oidc/token, which it is (server/oidc/token-events.ts).
    .mutation(({ ctx, input }) => ctx.deps.auth.refresh(input.refreshToken, ctx.meta)),

  logout: publicProcedure
    .meta({ openapi: { method: 'POST', path: '/auth/logout', protect: false, tags, summary: 'End the session of a refresh token', errorResponses: [400] } })
    .input(z.strictObject({ refreshToken: token }))
    .output(successView)
    .mutation(({ ctx, input }) => ctx.deps.auth.logout(input.refreshToken, ctx.meta)),

  logoutAll: authedProcedure
    .meta({ openapi: { method: 'POST', path: '/auth/logout-all', tags, summary: 'End every session of the signed-in user', errorResponses: [401] } })
    .output(successView)
    .mutation(({ ctx }) => ctx.deps.auth.logoutAll(ctx.user.id, ctx.meta)),

  verify: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/auth/verify',
        protect: false,
        tags,
        summary: 'Check an access token',
        description: 'Checks signature, expiry, audience and that the session still lives.',
        errorResponses: [400],
      },
    })
    .input(z.strictObject({ token }))
    .output(verifyResultView)
    .mutation(({ ctx, input }) => ctx.deps.rateLimits.verify.run('', ctx.meta, () => ctx.deps.auth.verify(input.token), (result) => result.active)),
});
