// Runs a command of a built image as a container engine would, without one: the image's root
// filesystem (buildah mount) bound READ-ONLY into a private mount namespace, a size-limited tmpfs
// on /tmp as the only writable path (as the chart gives it), /proc and /dev, optional read-only
// binds, then chroot as the image's user with the image's environment and working directory. The
// host's network (loopback) is shared, so the process reaches the local Redis and stand-ins.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageConfig } from './buildah.ts';

export interface RunOptions {
  /** The mounted image root (buildah mount). */
  root: string;
  config: ImageConfig;
  /** The whole command line; default: the image's entrypoint followed by `args`. */
  argv?: string[];
  args?: string[];
  env?: Record<string, string>;
  /** Host directories bound read-only at a path that exists in the image. */
  binds?: Array<{ host: string; target: string }>;
  /** uid:gid; default: the image's USER resolved in the image's /etc/passwd. */
  user?: string;
}

export interface ImageProcess {
  child: ChildProcess;
  readonly lines: string[];
  exited: Promise<number | null>;
  output(): string;
}

/** The image's USER as uid:gid (numeric, or a name looked up in the image's /etc/passwd). */
export function imageUser(root: string, user: string): { uid: number; gid: number; home: string } {
  const [name, group] = user.split(':');
  if (!name) return { uid: 0, gid: 0, home: '/root' };
  const entry = readFileSync(join(root, 'etc/passwd'), 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((fields) => fields[0] === name || fields[2] === name);
  if (!entry) throw new Error(`the image's user "${name}" is not in its /etc/passwd`);
  return { uid: Number(entry[2]), gid: group ? Number(group) : Number(entry[3]), home: entry[5] ?? '/' };
}

// $1 root, $2 view, $3 tmp size, $4 uid, $5 gid, $6 workdir, $7 bind count, then pairs, then env, then --, then argv.
const SCRIPT = `
set -e
root=$1 view=$2 tmpsize=$3 uid=$4 gid=$5 workdir=$6 binds=$7
shift 7
mount --bind "$root" "$view"
mount -o remount,bind,ro "$view"
mount -t tmpfs -o "size=$tmpsize,mode=1777,nosuid,nodev" tmpfs "$view/tmp"
mount -t proc -o nosuid,nodev,noexec proc "$view/proc"
mount --bind /dev "$view/dev"
while [ "$binds" -gt 0 ]; do
  mount --bind "$1" "$view$2"; mount -o remount,bind,ro "$view$2"; shift 2; binds=$((binds - 1))
done
envs=""
while [ "$1" != "--" ]; do envs="$envs $1"; shift; done
shift
exec chroot --userspec="$uid:$gid" --groups="$gid" "$view" /usr/bin/env -i $envs /bin/sh -c 'cd "$0" && exec "$@"' "$workdir" "$@"
`;

/** Starts the command in the sandbox; lines of its stdout and stderr are collected. */
export function runInImage(options: RunOptions): ImageProcess {
  const { config } = options;
  const user = options.user
    ? { uid: Number(options.user.split(':')[0]), gid: Number(options.user.split(':')[1]), home: '/' }
    : imageUser(options.root, config.User);
  const env: Record<string, string> = { HOME: user.home };
  for (const pair of config.Env) {
    const at = pair.indexOf('=');
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  Object.assign(env, options.env ?? {});
  for (const [key, value] of Object.entries(env)) if (/\s/.test(key + value)) throw new Error(`environment ${key}: no whitespace allowed in the sandbox`);
  const argv = options.argv ?? [...config.Entrypoint, ...(options.args ?? config.Cmd)];
  const binds = options.binds ?? [];
  const view = mkdtempSync(join(tmpdir(), 'rotator-image-view-'));
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--fork',
      '--kill-child',
      '/bin/sh',
      '-c',
      SCRIPT,
      'sandbox',
      options.root,
      view,
      '64m',
      String(user.uid),
      String(user.gid),
      config.WorkingDir || '/',
      String(binds.length),
      ...binds.flatMap((b) => [b.host, b.target]),
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      '--',
      ...argv,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let index: number;
      while ((index = buffer.indexOf('\n')) >= 0) {
        lines.push(buffer.slice(0, index));
        buffer = buffer.slice(index + 1);
      }
    });
    stream.on('end', () => buffer && lines.push(buffer));
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      rmSync(view, { recursive: true, force: true }); // an empty directory: the mounts lived in the namespace
      resolve(code);
    }),
  );
  return { child, lines, exited, output: () => lines.join('\n') };
}

/** The pid of the command inside (unshare's forked child, which exec'd down to it) and its uids. */
export function innerProcess(unsharePid: number): { pid: number; uid: number; euid: number; command: string } | undefined {
  let children: string;
  try {
    children = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim();
  } catch {
    return undefined;
  }
  const pid = Number(children.split(/\s+/)[0]);
  if (!pid) return undefined;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  return { pid, uid: Number(uids?.[1]), euid: Number(uids?.[2]), command };
}
