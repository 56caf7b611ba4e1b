import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);

/** The repository this test runs from. */
export const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

/** The repository's files as git sees them (tracked, and new ones not ignored): what a clone plus the work in progress holds. */
export async function repositoryFiles(): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPOSITORY, maxBuffer: 16 * 1024 * 1024 });
  // A file deleted in the work tree but still in the index is not there to copy.
  const files = stdout.split('\0').filter((f) => f !== '');
  return [...new Set(files)].filter((f) => {
    try {
      readFileSync(join(REPOSITORY, f));
      return true;
    } catch {
      return false;
    }
  });
}

/** Copies the repository's files into `target`, with node_modules as a symlink to the repository's (installed once). */
export async function copyRepository(target: string): Promise<string[]> {
  const files = await repositoryFiles();
  for (const file of files) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    cpSync(join(REPOSITORY, file), join(target, file));
  }
  symlinkSync(join(REPOSITORY, 'node_modules'), join(target, 'node_modules'), 'dir');
  return files;
}

/** Every file under `root` (relative paths), node_modules left out. */
export function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.name === 'node_modules') return [];
    return entry.isDirectory() ? filesUnder(root, path) : [relative(root, path)];
  });
}

/** The lines `git diff --no-index` shows added and removed between two files (no context). */
export async function lineDiff(before: string, after: string): Promise<{ added: string[]; removed: string[] }> {
  // Exit 1 means "they differ": the output is what we want, not an error.
  const { stdout } = await run('git', ['diff', '--no-index', '--no-color', '-U0', before, after]).catch((error: { code?: number; stdout?: string }) => {
    if (error.code === 1 && typeof error.stdout === 'string') return { stdout: error.stdout };
    throw error;
  });
  const lines = stdout.split('\n');
  return {
    added: lines.filter((l) => l.startsWith('+') && !l.startsWith('+++')).map((l) => l.slice(1)),
    removed: lines.filter((l) => l.startsWith('-') && !l.startsWith('---')).map((l) => l.slice(1)),
  };
}

/** Runs a tool of the repository's node_modules in `cwd`; resolves with its exit code and output, whatever the code. */
export async function runTool(cwd: string, script: string, args: string[], timeoutMs = 90_000): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(REPOSITORY, 'node_modules', script), ...args], {
      cwd,
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}${typeof e.code === 'number' ? '' : e.message}` };
  }
}
