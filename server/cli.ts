// Entry of the operator CLI: `gatehouse <command>` (bin/gatehouse.js), `npm run cli -- <command>`,
// or `node server/cli.ts <command>`. The commands are in cli/commands/.
import { runCli } from './cli/main.ts';

process.exitCode = await runCli(process.argv.slice(2));
