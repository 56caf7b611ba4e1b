#!/usr/bin/env node
// Runs the compiled CLI when a build exists (the container image), else the TypeScript source
// directly through Node's type stripping (Node 22.18+ / 24). An unsupported Node.js gets one line
// and exit 2 first, before any import could fail. Plain JavaScript any Node.js can parse.
import { existsSync } from 'fs';
import { EXIT_UNSUPPORTED, unsupportedNode } from './node-version.mjs';

const problem = unsupportedNode(process.versions.node);
if (problem) {
  // With --json, as every error of the CLI: one JSON object on stdout.
  if (process.argv.indexOf('--json') >= 0)
    process.stdout.write(JSON.stringify({ ok: false, error: { type: 'UnsupportedNodeError', message: problem } }) + '\n');
  else console.error('rotator: ' + problem);
  process.exitCode = EXIT_UNSUPPORTED;
} else {
  const built = new URL('../dist/src/cli/main.js', import.meta.url);
  import(existsSync(built) ? built.href : new URL('../src/cli/main.ts', import.meta.url).href);
}
