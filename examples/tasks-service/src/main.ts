// Runs the tasks service, configured by environment:
//   GATEHOUSE_ISSUER (http://localhost:3000/oidc), TASKS_AUDIENCE (https://tasks.example), PORT (4000)
// Node 24 runs this file as is (type stripping): node examples/tasks-service/src/main.ts
import type { AddressInfo } from 'node:net';
import { createTasksService } from './app.ts';

const issuer = process.env.GATEHOUSE_ISSUER || 'http://localhost:3000/oidc';
const audience = process.env.TASKS_AUDIENCE || 'https://tasks.example';
const port = Number(process.env.PORT || 4000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`tasks service: PORT must be a port number, not ${process.env.PORT}`);
  process.exit(1);
}

const server = createTasksService({ issuer, audience }).listen(port, (error?: Error) => {
  if (error) throw error;
  console.log(`tasks service on http://localhost:${(server.address() as AddressInfo).port} (issuer ${issuer}, audience ${audience})`);
});

// Ctrl-C and docker stop: let requests in flight finish.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close());
