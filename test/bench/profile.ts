import type { Options } from './options.ts';

/** With --profile, a server process of the run writes a .cpuprofile named after it on exit. */
export function profileFlags(options: Options, name: string): string[] {
  return options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`, `--cpu-prof-name=${name}.\${pid}.cpuprofile`] : [];
}
