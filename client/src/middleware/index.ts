// @gatehouse/client/middleware: 401/403 for resource servers on node:http, Express and Koa.
export { requireToken } from './guard.js';
export type { Guard, GuardOptions, GuardRequest, GuardResult, Refusal } from './guard.js';
export { sendRefusal, toNodeHttp } from './node.js';
export type { NodeRequestLike, NodeResponseLike } from './node.js';
export { claimsOf, toExpress } from './express.js';
export type { ExpressRequestLike, ExpressResponseLike } from './express.js';
export { toKoa } from './koa.js';
export type { KoaContextLike } from './koa.js';
