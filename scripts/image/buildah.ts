// Small wrappers around the buildah CLI (chroot isolation, as root) for scripts/image-test.ts.
import { spawn, spawnSync } from 'node:child_process';

export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** Runs a command to its end; its stdout, or a CommandError with the tail of its output. */
export function sh(cmd: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new CommandError(`${cmd} could not run: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-25).join('\n');
    throw new CommandError(`${cmd} ${args.join(' ')} exited ${result.status}:\n${tail}`);
  }
  return result.stdout;
}

/** Runs a command with its output streamed, prefixed, to ours (a long build); rejects on failure. */
export function streamed(cmd: string, args: string[], prefix: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (process.env.IMAGE_TEST_VERBOSE || /^(STEP|COMMIT|\[\d\/\d\] STEP)/.test(line)) console.log(`${prefix}${line}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new CommandError(`${cmd} ${args.slice(0, 3).join(' ')} … exited ${code}:\n${tail.join('\n')}`)),
    );
  });
}

export const buildah = (...args: string[]) => sh('buildah', args).trim();

export function imageExists(name: string): boolean {
  return spawnSync('buildah', ['inspect', '--type', 'image', name], { stdio: 'ignore' }).status === 0;
}

export interface ImageConfig {
  User: string;
  Env: string[];
  Entrypoint: string[];
  Cmd: string[];
  WorkingDir: string;
}

export function imageConfig(name: string): { config: ImageConfig; created: Date } {
  const inspected = JSON.parse(buildah('inspect', '--type', 'image', name)) as { OCIv1: { config: ImageConfig; created: string } };
  return { config: inspected.OCIv1.config, created: new Date(inspected.OCIv1.created) };
}

/** The image's size as buildah reports it (uncompressed layers, e.g. "312 MB"). */
export function imageSize(name: string): string {
  return buildah('images', '--format', '{{.Size}}', name).split('\n')[0] ?? '?';
}
