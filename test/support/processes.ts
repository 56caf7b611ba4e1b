import type { RotatorProcess } from './worker-process.ts';

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
