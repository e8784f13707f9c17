// What a CLI command is: a name, its help, its options and a run that answers a result. The
// framework (main.ts) adds --help and --json to every command and prints the result.
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import type { Config } from '../config.ts';
import type { Deps } from '../deps.ts';

/** The command line is wrong: exit 2, with a pointer to the command's help. */
export class UsageError extends Error {}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** The placeholder of a string option's value in the usage: `--email E`. */
  arg?: string;
  required?: boolean;
  /** A boolean that defaults to true is shown as its negation, `--no-<name>`. */
  default?: boolean;
  help: string;
}

export type Options = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean' ? (S extends { multiple: true } ? boolean[] : boolean) : S extends { multiple: true } ? string[] : string;
type Always<S> = S extends { required: true } ? true : S extends { default: boolean } ? true : false;

/** The parsed options: required ones and those with a default are always there. */
export type Values<O extends Options> = { [K in keyof O as Always<O[K]> extends true ? K : never]: ValueOf<O[K]> } & {
  [K in keyof O as Always<O[K]> extends true ? never : K]?: ValueOf<O[K]>;
};

/** What a command prints: `data` as JSON under --json, `text` otherwise. */
export interface Result {
  data: unknown;
  text: string;
}

export interface Context<V> {
  values: V;
  /** The configuration from the environment, read once on first use. */
  config(): Config;
  /** The service's own wiring, without its timers, for the length of `run`. */
  withDeps<T>(run: (deps: Deps) => Promise<T>): Promise<T>;
}

export interface CommandSpec<O extends Options> {
  name: string;
  /** One line for `gatehouse help`. */
  summary: string;
  /** The paragraphs of `gatehouse <command> --help`, after the usage. */
  description: string;
  options: O;
  run(context: Context<Values<O>>): Promise<Result>;
}

/** A command with its option types erased, for the table of commands. */
export interface Command {
  name: string;
  summary: string;
  description: string;
  options: Options;
  run(context: Context<Record<string, unknown>>): Promise<Result>;
}

export function defineCommand<const O extends Options>(spec: CommandSpec<O>): Command {
  return spec as unknown as Command;
}

/** Options every command takes; the framework reads them. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean', help: 'print one JSON document on standard output, for scripts' },
  help: { type: 'boolean', help: 'show this help' },
} as const satisfies Options;

/** A command's own options, then the common ones. */
export function allOptions(command: Command): [string, OptionSpec][] {
  return Object.entries<OptionSpec>({ ...command.options, ...COMMON_OPTIONS });
}

/** Parses `args` against the command's options: UsageError for an unknown, stray or missing one. */
export function parseOptions(command: Command, args: string[]): Record<string, unknown> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args,
      options: Object.fromEntries(
        allOptions(command).map(([name, o]) => [name, { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) }]),
      ),
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    }));
  } catch (error) {
    if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(error.message);
    throw error;
  }
  if (values.help) return values;
  for (const [name, option] of Object.entries(command.options)) {
    if (option.required && values[name] === undefined) throw new UsageError(`--${name} is required`);
  }
  return values;
}

/** An option's value through its zod schema; a value it refuses is a usage error naming the option. */
export function checked<S extends z.ZodType>(name: string, schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new UsageError(`--${name}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  return parsed.data;
}
