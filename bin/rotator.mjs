#!/usr/bin/env node
// Runs the compiled CLI when a build exists (the container image), else the TypeScript source
// directly through Node's type stripping (Node 22.18+ / 24).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
await import(existsSync(built) ? built : new URL('../src/cli/main.ts', import.meta.url).href);
