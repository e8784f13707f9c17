// What the CLI writes: results on standard output, errors on standard error, each as text for a
// person or, under --json, as one JSON document for a script. Never a password.
import { AppError } from '../errors.ts';
import { isStartRefusal } from '../start-refusal.ts';
import { UsageError, type Result } from './command.ts';

export interface Failure {
  /** USAGE, CONFIG, an AppError code (NOT_FOUND, WEAK_PASSWORD, ...) or ERROR. */
  code: string;
  message: string;
  fieldErrors?: Record<string, string[]>;
  exitCode: 1 | 2;
}

export function failureOf(error: unknown): Failure {
  if (error instanceof UsageError) return { code: 'USAGE', message: error.message, exitCode: 2 };
  if (isStartRefusal(error)) return { code: 'CONFIG', message: error.message, exitCode: 1 };
  if (error instanceof AppError) {
    const fieldErrors = error.details.fieldErrors;
    // Retried with another password, like a mistyped option: nothing was changed.
    if (error.code === 'WEAK_PASSWORD') return { code: error.code, message: `password refused: ${Object.values(fieldErrors ?? {}).flat().join('; ')}`, ...(fieldErrors ? { fieldErrors } : {}), exitCode: 2 };
    return { code: error.code, message: error.message, ...(fieldErrors ? { fieldErrors } : {}), exitCode: 1 };
  }
  return { code: 'ERROR', message: error instanceof Error ? error.message : String(error), exitCode: 1 };
}

export function printResult(result: Result, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(result.data, null, 2)}\n` : result.text.endsWith('\n') ? result.text : `${result.text}\n`);
}

/** `hint` follows a text error: the usage of the command, or where to find it. */
export function printFailure(failure: Failure, json: boolean, hint = ''): void {
  if (json) {
    const { exitCode: _, ...error } = failure;
    process.stderr.write(`${JSON.stringify({ error })}\n`);
    return;
  }
  const fields = failure.code === 'WEAK_PASSWORD' || !failure.fieldErrors ? '' : ` (${Object.entries(failure.fieldErrors).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ')})`;
  process.stderr.write(`gatehouse: ${failure.message}${fields}\n${hint}`);
}

/** Rows as columns padded to their widest cell, under a header. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
