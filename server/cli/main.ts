// The CLI's dispatch: finds the command, parses its options, runs it and prints what it answers.
// --help and --json mean the same for every command; the exit status is 0, 1 (refused or failed) or 2 (usage).
import { loadConfig, type Config } from '../config.ts';
import { createDeps, type Deps } from '../deps.ts';
import { createLogger } from '../logger.ts';
import { parseOptions, UsageError, type Context } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { commandHelp, helpData, overview, usageOf } from './help.ts';
import { failureOf, printFailure, printResult } from './output.ts';

/** The service's own wiring, without its timers, for one command. */
export async function withDeps<T>(config: Config, run: (deps: Deps) => Promise<T>): Promise<T> {
  const deps = await createDeps(config, { log: createLogger('silent'), purgeIntervalMs: 0, mail: { pollMs: 0 }, keyPollMs: 0 });
  try {
    return await run(deps);
  } finally {
    await deps.close();
  }
}

function contextOf(values: Record<string, unknown>): Context<Record<string, unknown>> {
  let config: Config | undefined;
  const configOnce = () => (config ??= loadConfig());
  return { values, config: configOnce, withDeps: (run) => withDeps(configOnce(), run) };
}

/** `gatehouse help [command]`, `gatehouse --help`: on standard output, exit 0. */
function help(topic: string | undefined, json: boolean): number {
  const command = topic === undefined ? undefined : COMMANDS.find((c) => c.name === topic);
  if (topic !== undefined && !command) return fail(new UsageError(`unknown command: ${topic}`), json, 'Run "gatehouse help" for the list of commands.\n');
  if (command) printResult({ data: helpData(command), text: commandHelp(command) }, json);
  else printResult({ data: { commands: COMMANDS.map(helpData) }, text: overview(COMMANDS) }, json);
  return 0;
}

function fail(error: unknown, json: boolean, hint: string): number {
  const failure = failureOf(error);
  printFailure(failure, json, failure.code === 'USAGE' ? hint : '');
  return failure.exitCode;
}

/** Runs one command line (without node and the script) and answers the exit status. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  const json = args.includes('--json');
  if (name === undefined) return fail(new UsageError('no command given'), json, `\n${overview(COMMANDS)}`);
  if (name === 'help') return help(args.find((arg) => !arg.startsWith('-')), json);
  if (name === '--help' || name === '-h') return help(undefined, json);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return fail(new UsageError(`unknown command: ${name}`), json, 'Run "gatehouse help" for the list of commands.\n');
  try {
    const values = parseOptions(command, args);
    if (values.help) return help(command.name, json);
    printResult(await command.run(contextOf(values)), json);
    return 0;
  } catch (error) {
    return fail(error, json, `\n${usageOf(command)}\nRun "gatehouse ${command.name} --help" for more.\n`);
  }
}
