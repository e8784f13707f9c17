#!/usr/bin/env node
// The `gatehouse` bin: runs server/cli.ts. Plain JavaScript, so that any Node can start it: a Node
// that cannot strip types hands over to the one of the `node` dependency, and a copy installed under
// node_modules, where Node refuses to strip types, strips this package's own files in a load hook.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const installed = fileURLToPath(root).split(/[\\/]/).includes('node_modules');

function bundledNode() {
  try {
    return createRequire(import.meta.url).resolve('node/bin/node');
  } catch {
    return undefined;
  }
}

if (!process.features.typescript || (installed && typeof module.registerHooks !== 'function')) {
  // GATEHOUSE_NODE marks the hand-over, so that a dependency's Node as old as this one ends it.
  const node = process.env.GATEHOUSE_NODE ? undefined : bundledNode();
  if (!node) {
    process.stderr.write(`gatehouse: needs Node 22.18 or later, or the \`node\` dependency installed (this is Node ${process.version})\n`);
    process.exit(1);
  }
  const child = spawnSync(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, GATEHOUSE_NODE: node } });
  if (child.signal) process.kill(process.pid, child.signal);
  process.exit(child.status ?? 1);
}

if (installed) {
  // Node's own stripping, asked for by the hook. It warns once that the function is experimental:
  // noise to an operator, so that one warning is not emitted. Remove when the package ships JavaScript.
  const strip = (source) => {
    const emitWarning = process.emitWarning;
    process.emitWarning = () => {};
    try {
      return module.stripTypeScriptTypes(source);
    } finally {
      process.emitWarning = emitWarning;
    }
  };
  module.registerHooks({
    load(url, context, nextLoad) {
      const own = url.startsWith(root.href) && url.endsWith('.ts') && !url.slice(root.href.length).includes('node_modules/');
      if (!own) return nextLoad(url, context);
      return { format: 'module', source: strip(readFileSync(new URL(url), 'utf8')), shortCircuit: true };
    },
  });
}

await import(new URL('server/cli.ts', root).href);
