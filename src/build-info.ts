import { existsSync, readFileSync } from 'node:fs';

/**
 * The package's version, from its package.json: `../package.json` beside the TypeScript sources,
 * `../../package.json` beside the compiled `dist/src` the image runs. Read once, on first use.
 */
let cached: string | undefined;

export function packageVersion(): string {
  if (cached !== undefined) return cached;
  for (const relative of ['../package.json', '../../package.json']) {
    const path = new URL(relative, import.meta.url);
    if (!existsSync(path)) continue;
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; version?: unknown };
    if (manifest.name === 'credential-rotator' && typeof manifest.version === 'string') return (cached = manifest.version);
  }
  // Never reached from the repository or the image; a build info of "unknown" beats a crash.
  return (cached = 'unknown');
}
