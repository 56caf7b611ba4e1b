import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface RotatorProcess {
  child: ChildProcess;
  /** Every stdout and stderr line so far. */
  readonly lines: string[];
  /** Resolves with the first JSON log line whose `msg` equals `msg` (and matches `where`). */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/**
 * Runs `rotator <args>` as its own process on the same Node, with the given environment: the
 * TypeScript sources, or `entry` (the compiled CLI, as the image runs it).
 */
export function spawnRotator(args: string[], env: Record<string, string | undefined>, entry: string = CLI): RotatorProcess {
  const child = spawn(process.execPath, [entry, ...args], {
    // A free port for the ops server unless the test names one: many workers run side by side.
    env: { ...process.env, ROTATOR_HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ msg: string; resolve: (line: Record<string, unknown>) => void }> = [];
  const onLine = (line: string) => {
    lines.push(line);
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const waiter of [...waiters]) {
      if (parsed.msg === waiter.msg) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(parsed);
      }
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let index: number;
      while ((index = buffer.indexOf('\n')) >= 0) {
        onLine(buffer.slice(0, index));
        buffer = buffer.slice(index + 1);
      }
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    exited,
    output: () => lines.join('\n'),
    waitForLog(msg, timeoutMs = 15_000) {
      const seen = lines
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return undefined;
          }
        })
        .find((l) => l?.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log "${msg}" within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({ msg, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        void exited.then(() => setTimeout(() => reject(new Error(`process exited before log "${msg}":\n${lines.join('\n')}`)), 100));
      });
    },
  };
}

/** The rotator processes a test file started, to stop after each test whatever happened. */
export function processTracker() {
  const processes: RotatorProcess[] = [];
  return {
    track<P extends RotatorProcess>(p: P): P {
      processes.push(p);
      return p;
    },
    /** Stops every process still running (SIGKILL by default: what a test left behind has no grace to get). */
    async stopAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
      for (const p of processes.splice(0)) {
        if (p.child.exitCode === null && p.child.signalCode === null) {
          p.child.kill(signal);
          await p.exited;
        }
      }
    },
  };
}
