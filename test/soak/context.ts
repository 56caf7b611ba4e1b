import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
