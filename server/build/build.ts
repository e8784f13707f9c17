// Builds the production bundle with esbuild: each of ENTRIES as one file, dist/<name>.js, with a
// source map. Node 24 re-reads a package's package.json for every file it loads from that package
// (nodejs/node#60397), which makes loading drizzle-orm's many files slow; a bundle is a few files.
//
//   node server/build/build.ts [--out-dir DIR] [--analyze]
//
// --analyze lists what each output file holds, largest first.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { rateLimiterDrizzleImport } from './rate-limiter-drizzle.ts';
import { keepSources } from './source-maps.ts';

export const repoDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What is bundled, as `<out-dir>/<name>.js`: the server (npm start) and the operator CLI (npm run cli). */
export const ENTRIES: Record<string, string> = {
  main: 'server/main.ts',
  cli: 'server/cli.ts',
};

/**
 * Left to Node to load from node_modules (a name covers its subpaths). Everything else is bundled,
 * oidc-provider included: its internal modules imported by path (lib/helpers/…) then share its module
 * state; were it listed here, those imports would go with it. pino needs files of its own only for
 * worker transports, which Gatehouse does not use.
 */
export const EXTERNAL = [
  // A native addon, from a per-platform package.
  '@node-rs/bcrypt',
  // Loads its .wasm and .data files from beside its own modules.
  '@electric-sql/pglite',
  // Reads its own package.json through __dirname (loaded only with REDIS_URL).
  'ioredis',
];

// The bundle is ESM; the CommonJS packages inside it call require() for Node's built-ins.
const BANNER = "import { createRequire as __gatehouseRequire } from 'node:module'; const require = __gatehouseRequire(import.meta.url);";

/**
 * Each of our modules keeps its own import.meta.url, so what it reads beside itself (db/migrations,
 * server/mail/templates, which operators may replace) is read where it is in the sources, not copied.
 * The paths are relative: a bundle stays where it was built relative to server/ and db/ (as dist/ does
 * in the image), and finds node_modules/ from there for the externals.
 */
function sourceLocations(outDir: string): esbuild.Plugin {
  return {
    name: 'source-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        if (path.includes(`${sep}node_modules${sep}`)) return undefined;
        const source = await readFile(path, 'utf8');
        // Every output file lands in outDir itself.
        const own = `new URL(${JSON.stringify(relative(outDir, path).split(sep).join('/'))}, import.meta.url).href`;
        return { contents: source.replaceAll('import.meta.url', own), loader: 'ts' };
      });
    },
  };
}

export interface BuildOptions {
  outDir?: string;
  /** Entries to build instead of ENTRIES (name → path from the repository root). */
  entries?: Record<string, string>;
}

export async function build({ outDir = resolve(repoDir, 'dist'), entries = ENTRIES }: BuildOptions = {}): Promise<esbuild.BuildResult> {
  await rm(outDir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: repoDir,
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, resolve(repoDir, path)])),
    outdir: outDir,
    bundle: true,
    // One file per entry. Split chunks can run cyclic modules out of order (esbuild#399): drizzle-orm's
    // pg-core then fails at load. A lazy import() stays lazy inside the file: its module runs when
    // first imported.
    splitting: false,
    platform: 'node',
    format: 'esm',
    target: 'node22.12',
    external: EXTERNAL,
    banner: { js: BANNER },
    // Class and function names survive (error names, logs).
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    plugins: [sourceLocations(outDir), rateLimiterDrizzleImport],
    logLevel: 'warning',
    metafile: true,
    write: false,
  });
  await mkdir(outDir, { recursive: true });
  await writeOutputs(result.outputFiles);
  return result;
}

const ours = (source: string) => !source.split('/').includes('node_modules');

/** Maps trimmed to our own sources; code in ASCII only. */
async function writeOutputs(files: esbuild.OutputFile[]): Promise<void> {
  for (const file of files) {
    if (file.path.endsWith('.map')) {
      await writeFile(file.path, JSON.stringify(keepSources(JSON.parse(file.text), ours)));
      continue;
    }
    // What esbuild leaves unescaped is in comments. One such character makes V8 hold the whole file as a
    // two-byte string, twice the memory.
    await writeFile(file.path, file.text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' }, analyze: { type: 'boolean' } } });
  const result = await build(values['out-dir'] ? { outDir: resolve(values['out-dir']) } : {});
  if (values.analyze) process.stdout.write(await esbuild.analyzeMetafile(result.metafile!));
}
