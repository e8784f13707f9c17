// The tasks service: a protected resource that accepts Gatehouse access tokens issued for its
// audience. Every /api route checks the token (401), then its permission and that :userId is the
// token's subject (403), with the middleware of @gatehouse/client.
import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { claimsOf, requireToken, toExpress } from '@gatehouse/client/middleware';
import { createTokenVerifier, VerifierUnavailableError } from '@gatehouse/client/verifier';

export interface TasksServiceOptions {
  /** Gatehouse's issuer, $PUBLIC_URL/oidc. */
  issuer: string;
  /** This service's resource identifier as registered in Gatehouse: the `aud` its tokens must name. */
  audience: string;
}

export interface Task {
  id: string;
  title: string;
  createdAt: string;
}

export const TITLE_MAX_LENGTH = 200;

/**
 * The service as an Express app, which is a node:http request listener:
 * `createTasksService(options).listen(0)` for a test, or `http.createServer(app)`.
 * Each app has its own in-memory store.
 */
export function createTasksService({ issuer, audience }: TasksServiceOptions): Express {
  const verifier = createTokenVerifier({ issuer, audience });
  const canRead = toExpress(requireToken(verifier, { permission: 'tasks:read', userIdParam: 'userId' }));
  const canWrite = toExpress(requireToken(verifier, { permission: 'tasks:write', userIdParam: 'userId' }));
  // Keyed by user id; the guard has already checked that :userId is the token's sub.
  const store = new Map<string, Task[]>();

  const app = express();
  app.disable('x-powered-by');

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/api/:userId/tasks', canRead, (_req, res) => {
    res.json({ tasks: store.get(claimsOf(res).sub) ?? [] });
  });

  // The token is checked before the body is read: a caller who may not write gets 401/403, not 400.
  app.post('/api/:userId/tasks', canWrite, express.json({ limit: '16kb' }), (req, res) => {
    const title = titleOf(req.body);
    if (title === null) {
      res.status(400).json(errorBody('BAD_REQUEST', `The body must be JSON { "title": string of 1 to ${TITLE_MAX_LENGTH} characters }`));
      return;
    }
    const userId = claimsOf(res).sub;
    const task: Task = { id: randomUUID(), title, createdAt: new Date().toISOString() };
    store.set(userId, [...(store.get(userId) ?? []), task]);
    res.status(201).json(task);
  });

  app.use((_req, res) => {
    res.status(404).json(errorBody('NOT_FOUND', 'No such route'));
  });
  app.use(onError);
  return app;
}

/** The trimmed title of a `{ title }` body, or null when the body is not one. */
function titleOf(body: unknown): string | null {
  const title = (body as { title?: unknown } | null | undefined)?.title;
  if (typeof title !== 'string') return null;
  const trimmed = title.trim();
  return trimmed.length >= 1 && trimmed.length <= TITLE_MAX_LENGTH ? trimmed : null;
}

/** The same shape as the middleware's 401/403 bodies. */
function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

// JSON instead of Express's HTML error pages. The verifier throws only when it cannot reach the
// issuer: no verdict on the token, so 503 rather than 401.
const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
  if (error instanceof VerifierUnavailableError) {
    console.error(`tasks service: ${error.message}`);
    res.status(503).json(errorBody('UNAVAILABLE', 'Cannot verify access tokens right now'));
    return;
  }
  // body-parser's errors (malformed JSON 400, too large 413, ...) carry their status and a safe message.
  const { status, expose, message } = error as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) {
    res.status(status).json(errorBody(status === 400 ? 'BAD_REQUEST' : 'CLIENT_ERROR', String(message)));
    return;
  }
  console.error('tasks service:', error);
  res.status(500).json(errorBody('INTERNAL', 'Internal error'));
};
