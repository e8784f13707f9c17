// Passwords come from standard input or a hidden prompt, never from arguments, which end up in
// shell history and process listings.
import { createInterface } from 'node:readline';
import { password as passwordInput } from '../common/inputs.ts';
import { AppError } from '../errors.ts';
import { UsageError } from './command.ts';

/**
 * One line of standard input when it is piped; otherwise asked twice at a prompt that echoes
 * nothing. WEAK_PASSWORD for an empty one or one bcrypt cannot take whole; the policy is the service's.
 */
export async function readPassword(): Promise<string> {
  const password = await (process.stdin.isTTY ? prompted() : piped());
  const parsed = passwordInput.safeParse(password);
  if (!parsed.success) throw new AppError('WEAK_PASSWORD', 'Password does not meet the policy', { fieldErrors: { password: parsed.error.issues.map((i) => i.message) } });
  return parsed.data;
}

async function piped(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

async function prompted(): Promise<string> {
  const ask = (prompt: string) =>
    new Promise<string>((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      // Echo nothing of what is typed.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.startsWith(prompt)) process.stderr.write(prompt);
      };
      rl.question(prompt, (answer) => {
        rl.close();
        process.stderr.write('\n');
        resolve(answer);
      });
    });
  const first = await ask('Password: ');
  if ((await ask('Repeat password: ')) !== first) throw new UsageError('passwords do not match');
  return first;
}
