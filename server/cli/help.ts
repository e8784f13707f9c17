// Help text, made from the table of commands so that it cannot drift from the options parsed.
import { allOptions, type Command, type OptionSpec } from './command.ts';

const WIDTH = 100;

function flagOf(name: string, option: OptionSpec): string {
  const flag = option.type === 'boolean' && option.default === true ? `--no-${name}` : `--${name}`;
  return option.type === 'string' ? `${flag} ${option.arg ?? 'VALUE'}` : flag;
}

function synopsisOf(name: string, option: OptionSpec): string {
  const word = option.multiple ? `${flagOf(name, option)} ...` : flagOf(name, option);
  return option.required ? word : `[${word}]`;
}

/** Words joined into lines of at most WIDTH columns, the lines after the first indented. */
function wrap(first: string, words: string[], indent: number): string {
  const lines = [first];
  for (const word of words) {
    const last = lines.length - 1;
    if (lines[last]!.length + 1 + word.length > WIDTH) lines.push(`${' '.repeat(indent)}${word}`);
    else lines[last] += ` ${word}`;
  }
  return lines.join('\n');
}

export function usageOf(command: Command): string {
  const head = `usage: gatehouse ${command.name}`;
  return wrap(head, Object.entries(command.options).map(([name, option]) => synopsisOf(name, option)), head.length + 1);
}

export function commandHelp(command: Command): string {
  const rows = allOptions(command).map(([name, option]) => [flagOf(name, option), option.help] as const);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const options = rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`).join('\n');
  return `${usageOf(command)}\n\n${command.description.trim()}\n\noptions:\n${options}\n`;
}

/** A command's help for a script (`--help --json`). */
export function helpData(command: Command) {
  const options = allOptions(command).map(([name, option]) => ({ flag: flagOf(name, option), required: option.required ?? false, multiple: option.multiple ?? false, help: option.help }));
  return { name: command.name, summary: command.summary, usage: usageOf(command), description: command.description.trim(), options };
}

export function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `usage: gatehouse <command> [options]     (from a checkout: npm run cli -- <command> [options])

Operator commands. They read the environment the service reads (DATABASE_URL, KEYS_DIR, ...).

commands:
${list}

Every command takes --help, and --json to print one JSON document for scripts.
Exit status: 0 done, 1 refused or failed, 2 wrong usage (or a password the policy refuses).
`;
}
