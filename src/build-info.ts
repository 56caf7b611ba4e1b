import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

let fingerprint: string | undefined;

/**
 * The version and a digest of the files that make the inventory's schemas, `src/config/` and
 * `src/kinds/` (each one's path, size and modification time): what the inventory cache is keyed
 * by, so that other schemas — a new release, or a schema edited while developing under one version
 * number — never read what these wrote. Computed once, on first use (stat calls only).
 */
export function programFingerprint(): string {
  if (fingerprint !== undefined) return fingerprint;
  const hash = createHash('sha256').update(packageVersion());
  const root = fileURLToPath(new URL('.', import.meta.url));
  try {
    for (const part of ['config', 'kinds']) {
      for (const file of readdirSync(join(root, part), { recursive: true, encoding: 'utf8' }).sort()) {
        const stats = statSync(join(root, part, file));
        if (stats.isFile()) hash.update(`\n${part}/${file} ${stats.size} ${Math.floor(stats.mtimeMs)}`);
      }
    }
  } catch {
    hash.update('\nunreadable');
  }
  return (fingerprint = `${packageVersion()}+${hash.digest('hex').slice(0, 16)}`);
}
