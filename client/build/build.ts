// Builds the publishable package into dist/ (or --out-dir DIR): .js and .d.ts for src/, with
// src/app-router.ts swapped for a standalone declaration of the server's router, so that neither
// the emitted code nor the emitted types reach into server/.
//
//   node client/build/build.ts [--out-dir DIR]
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ts from 'typescript';
import { declareRouter } from './router-declaration.ts';

const clientDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(clientDir, '..');
const appRouterFile = join(clientDir, 'src', 'app-router.ts');

function readConfig(path: string, overrides: ts.CompilerOptions = {}): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(path, overrides, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => fail([diagnostic]),
  });
  if (!parsed) throw new Error(`cannot read ${path}`);
  if (parsed.errors.length > 0) fail(parsed.errors);
  return parsed;
}

function fail(diagnostics: readonly ts.Diagnostic[]): never {
  const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => repoDir, getNewLine: () => '\n' };
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}

export async function build(outDir = join(clientDir, 'dist')): Promise<void> {
  // 1. The server's router type, read with the repository's own compiler options.
  const repoConfig = readConfig(join(repoDir, 'tsconfig.json'));
  const serverProgram = ts.createProgram({ rootNames: [appRouterFile], options: repoConfig.options });
  const routerDeclaration = declareRouter(serverProgram, appRouterFile);

  // 2. The package, with src/app-router.ts read as that declaration: it never sees server/, and
  //    type-checks the client against exactly what it publishes.
  const config = readConfig(join(clientDir, 'tsconfig.build.json'), { outDir });
  const host = ts.createCompilerHost(config.options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (resolve(file) === appRouterFile ? routerDeclaration : readFile(file));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError, shouldCreate) =>
    resolve(file) === appRouterFile
      ? ts.createSourceFile(file, routerDeclaration, language, true)
      : getSourceFile(file, language, onError, shouldCreate);

  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, host });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) fail(diagnostics);
  await rm(outDir, { recursive: true, force: true });
  const emitted = program.emit();
  if (emitted.emitSkipped || emitted.diagnostics.length > 0) fail(emitted.diagnostics);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
  await build(values['out-dir'] ? resolve(values['out-dir']) : undefined);
}
