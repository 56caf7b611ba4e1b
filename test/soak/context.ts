import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { emulatorAwsEnv, startMoto } from '../../scripts/local-services.ts';
import { createSecretStore, type SecretStore } from '../../src/secrets/secret-store.ts';
import type { SoakContext, SoakRow, SoakScenario } from './report.ts';

/** The seed of every soak run unless SOAK_SEED says otherwise: the same run, the same faults. */
export const DEFAULT_SEED = 20261202;

export function soakSeed(): number {
  const text = process.env.SOAK_SEED;
  if (text === undefined || text === '') return DEFAULT_SEED;
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`SOAK_SEED must be a non-negative integer, got "${text}"`);
  return seed;
}

/** Runs one scenario with a working directory of its own, removed afterwards. */
export async function runScenario(scenario: SoakScenario, scale: SoakContext['scale'], log: (line: string) => void = () => {}): Promise<SoakRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rotator-soak-'));
  try {
    return await scenario({ seed: soakSeed(), scale, dir, log });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rows that miss their target, printed so a failing test says which and why. */
export function missed(rows: SoakRow[]): string[] {
  return rows.filter((r) => !r.ok).map((r) => `${r.scenario}: ${r.figure} = ${r.value} (target ${r.target})${r.detail ? ` — ${r.detail}` : ''}`);
}

/**
 * The Secrets Manager emulator a scenario talks to: the one named by AWS_ENDPOINT_URL_SECRETS_MANAGER
 * (the suite's or the soak script's), else one of its own, stopped through `cleanup`. With a store
 * that reads and writes it directly, under the emulator's fake credentials.
 */
export async function emulatorStore(cleanup: Array<() => Promise<unknown>>): Promise<{ endpoint: string; store: SecretStore }> {
  let endpoint = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  if (!endpoint) {
    const moto = await startMoto();
    cleanup.push(() => moto.stop());
    endpoint = `http://127.0.0.1:${moto.port}`;
  }
  const aws = emulatorAwsEnv(endpoint);
  const client = new SecretsManagerClient({
    endpoint,
    region: aws.AWS_REGION,
    credentials: { accessKeyId: aws.AWS_ACCESS_KEY_ID!, secretAccessKey: aws.AWS_SECRET_ACCESS_KEY! },
  });
  return { endpoint, store: createSecretStore(client) };
}

/** Polls `check` until it holds or `timeoutMs` passes; the last answer is returned either way. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return check();
}
