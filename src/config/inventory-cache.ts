import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

/**
 * The validated inventory, kept beside the inventory's path between runs: an unchanged file is
 * read with JSON.parse instead of the YAML reader and the schemas (docs/decisions.md, "The
 * inventory cache"). It holds what validation produced from the file and nothing else: ids, kinds,
 * secret NAMES and references ({ env } or { secretId }), endpoints, schedules and durations; the
 * inventory holds no secret value (fields.ts, secretRef), so neither does the cache.
 *
 * A cache is a convenience, never a source of failure: a directory that cannot be made or written
 * (read-only filesystem, no permission) means no cache, a file that cannot be read or parsed is
 * ignored and written again. Trusted only when private to this user: the directory 0700 and the
 * file 0600, both owned by the process's user, so that no one else can plant an inventory.
 */

/** Changes when the cache file's own layout changes. */
const FORMAT = 1;

export interface InventoryCacheOptions {
  /** The directory of the cache files (made 0700 when missing). */
  dir: string;
  /** The program's version and schema fingerprint (build-info.ts): a cache written by other schemas is never read. */
  version: string;
}

/** What a cache file holds, beside the inventory. */
interface CacheFile {
  format: number;
  version: string;
  /** SHA-256 of the inventory file's bytes, hex. */
  sha256: string;
  inventory: unknown;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The cache file of one inventory path: one file per path, replaced when the file changes. */
export function cacheFileOf(dir: string, inventoryPath: string): string {
  return join(dir, `inventory-${sha256(resolve(inventoryPath)).slice(0, 32)}.json`);
}

/** Whether `mode` gives nothing to the group or others, and `uid` is this process's user. */
function isPrivate(stats: { uid: number; mode: number }): boolean {
  const uid = process.getuid?.();
  return (uid === undefined || stats.uid === uid) && (stats.mode & 0o077) === 0;
}

/** The cache directory, made when missing; undefined when it cannot be had or is not private. */
function usableDir(dir: string, create: boolean): string | undefined {
  try {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stats = lstatSync(dir);
    return stats.isDirectory() && isPrivate(stats) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The inventory cached for `bytes` (the inventory file's content) by this version, or undefined:
 * no cache, another file's or another version's, unreadable, not private, or not JSON.
 */
export function readCachedInventory(options: InventoryCacheOptions, inventoryPath: string, bytes: Buffer): unknown {
  const dir = usableDir(options.dir, false);
  if (!dir) return undefined;
  let fd: number | undefined;
  try {
    fd = openSync(cacheFileOf(dir, inventoryPath), 'r');
    const stats = fstatSync(fd);
    if (!stats.isFile() || !isPrivate(stats)) return undefined;
    const file = JSON.parse(readFileSync(fd, 'utf8')) as Partial<CacheFile> | null;
    if (file?.format !== FORMAT || file.version !== options.version || file.sha256 !== sha256(bytes)) return undefined;
    return file.inventory;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Keeps `inventory` (validated from `bytes`) for the next run: written whole to a temporary file of
 * its own, then renamed over the cache file, so that a reader, or another writer at the same moment,
 * never sees half a file. Nothing is written when the inventory would not read back the same from
 * JSON. Never throws; returns whether the cache was written.
 */
export function writeCachedInventory(options: InventoryCacheOptions, inventoryPath: string, bytes: Buffer, inventory: unknown): boolean {
  const dir = usableDir(options.dir, true);
  if (!dir) return false;
  const json = JSON.stringify({ format: FORMAT, version: options.version, sha256: sha256(bytes), inventory } satisfies CacheFile);
  if (!isDeepStrictEqual((JSON.parse(json) as CacheFile).inventory, inventory)) return false;
  const target = cacheFileOf(dir, inventoryPath);
  const temporary = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, json, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, target);
    return true;
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Left behind in a directory that refuses even this: harmless, never read.
    }
    return false;
  }
}
