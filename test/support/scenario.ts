import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach } from 'vitest';
import { QUEUE_NAME } from '../../src/config/queue-names.ts';
import { inventoryYaml, runId, seedSecrets, type DeclaredCredential } from './credentials.ts';
import { dumpRedis } from './redis-dump.ts';
import { processTracker, spawnRotator, type RotatorProcess } from './worker-process.ts';

export { credlyApplication, credlyToken, DAY, degreedClient, entryYaml, inventoryYaml, runId, seedSecrets, store } from './credentials.ts';
export type { CredlyTokenCredential, DeclaredCredential } from './credentials.ts';

/**
 * The scenario builder of the suites that run the rotator as its own process: declare the
 * credentials (credentials.ts) and the environment, get the inventory file, the seeded secrets and
 * optionally started workers; every process, queue and file is cleaned up after each test.
 */

export interface ScenarioSpec {
  credentials: DeclaredCredential[];
  /** Inventory text after the credentials: an `alerts:` section, `defaults:`… */
  more?: string;
  /** The inventory's `defaults:` section; default TEST_DEFAULTS (credentials.ts), `''` for the product's own. */
  defaults?: string;
  /** Environment of every process of the scenario, beside ROTATOR_CONFIG and ROTATOR_QUEUE_PREFIX. */
  env?: Record<string, string | undefined>;
  /** Default `{<suite>-<run>}`. */
  prefix?: string;
  /** Workers started before `build` returns, each waited for until it logs that it started. */
  workers?: number;
}

export interface WorkerProcess extends RotatorProcess {
  /** The ops server's port, from its `ops: listening` line. */
  port(): Promise<number>;
}

export interface ProcessScenario {
  prefix: string;
  configPath: string;
  env: Record<string, string | undefined>;
  /** The workers `spec.workers` started. */
  workers: WorkerProcess[];
  /** `rotator <args>` with the scenario's environment (and `env` over it), stopped after the test. */
  spawn: (args: string[], env?: Record<string, string | undefined>) => RotatorProcess;
  /** `rotator <args>` run to its exit. */
  command: (args: string[]) => Promise<{ code: number | null; output: string; lines: string[] }>;
  /** A `rotator worker`, resolved once it logs `worker: started`. */
  startWorker: (timeoutMs?: number) => Promise<WorkerProcess>;
  /** Rewrites the inventory file (a worker started later reads the new one). */
  writeInventory: (credentials: DeclaredCredential[], more?: string) => void;
  /** The scenario's queue and its events on the suite's Redis, closed (and obliterated) after the test. */
  queue: () => Promise<{ queue: Queue; events: QueueEvents }>;
  /** Every key under the scenario's prefix, as text, for secret searches. */
  redisText: () => Promise<string>;
}

/**
 * A connection to the run's Redis for a test file's own reads and writes, opened on first use and
 * closed after the file's last test.
 */
export function useRedis(): () => Redis {
  let redis: Redis | undefined;
  afterAll(() => redis?.disconnect());
  return () => (redis ??= new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null }));
}

/** Parsed JSON log lines of a process. */
export function logLines(p: RotatorProcess): Array<Record<string, unknown>> {
  return p.lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** The environment of a rotator process on a topology: no REDIS_URL inherited from the suite's Redis. */
export function topologyEnv(vars: Record<string, string>): Record<string, string | undefined> {
  return { REDIS_URL: undefined, ...vars };
}

function asWorker(p: RotatorProcess): WorkerProcess {
  return Object.assign(p, { port: async () => ((await p.waitForLog('ops: listening')) as { port: number }).port });
}

/**
 * The scenarios of one test file: a temporary folder for their inventories, and the hooks that stop
 * their processes (SIGKILL unless `stopSignal` says otherwise) and close their queues after each
 * test, and remove the folder after the last.
 */
export function useScenarios(suite: string, { stopSignal = 'SIGKILL' }: { stopSignal?: NodeJS.Signals } = {}) {
  const dir = mkdtempSync(join(tmpdir(), `rotator-${suite}-`));
  const processes = processTracker();
  const cleanups: Array<() => Promise<void>> = [];
  const connection = useRedis();

  /** Closes the scenarios' queues, then stops every process still running. */
  async function stopAll(signal: NodeJS.Signals = stopSignal): Promise<void> {
    for (const fn of cleanups.splice(0).reverse()) await fn();
    await processes.stopAll(signal);
  }
  afterEach(() => stopAll());
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** `rotator <args>` as its own process, stopped after the test. */
  function spawn(args: string[], env: Record<string, string | undefined>): RotatorProcess {
    return processes.track(spawnRotator(args, env));
  }

  async function build(spec: ScenarioSpec): Promise<ProcessScenario> {
    const run = runId();
    const prefix = spec.prefix ?? `{${suite}-${run}}`;
    const configPath = join(dir, `${run}.yaml`);
    const defaults = spec.defaults === undefined ? {} : { defaults: spec.defaults };
    const writeInventory = (credentials: DeclaredCredential[], more = '') => writeFileSync(configPath, inventoryYaml(credentials, more, defaults));
    writeInventory(spec.credentials, spec.more);
    await seedSecrets(spec.credentials);
    const env = { ...spec.env, ROTATOR_CONFIG: configPath, ROTATOR_QUEUE_PREFIX: prefix };
    const scenario: ProcessScenario = {
      prefix,
      configPath,
      env,
      workers: [],
      spawn: (args, more = {}) => spawn(args, { ...env, ...more }),
      async command(args) {
        const p = scenario.spawn(args);
        const { code } = await p.exited;
        return { code, output: p.output(), lines: p.lines };
      },
      async startWorker(timeoutMs) {
        const worker = asWorker(scenario.spawn(['worker']));
        await worker.waitForLog('worker: started', timeoutMs);
        return worker;
      },
      writeInventory,
      async queue() {
        const queue = new Queue(QUEUE_NAME, { connection: connection(), prefix });
        // BullMQ closes only the copy it makes of a shared connection: this one is closed here.
        const eventsConnection = connection().duplicate();
        const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection, prefix });
        cleanups.push(async () => {
          await events.close();
          await queue.obliterate({ force: true });
          await queue.close();
          eventsConnection.disconnect();
        });
        await events.waitUntilReady();
        return { queue, events };
      },
      redisText: async () => (await dumpRedis(connection(), `${prefix}*`)).text,
    };
    scenario.workers.push(...(await Promise.all(Array.from({ length: spec.workers ?? 0 }, () => scenario.startWorker()))));
    return scenario;
  }

  return { dir, build, spawn, stopAll };
}
