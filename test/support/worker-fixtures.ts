import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMarker } from '../../src/kinds/credly/marker.ts';
import type { SecretStore } from '../../src/secrets/secret-store.ts';
import type { CredlyFake } from '../fakes/credly.fake.ts';
import type { RotatorProcess } from './worker-process.ts';

const DAY = 86_400_000;

/** A Credly token credential at the fake, its secret stored, and its inventory entry. */
export async function credlyCredential(fake: CredlyFake, store: Pick<SecretStore, 'putCurrent'>, options: { ageDays: number; schedule?: string }) {
  const run = randomUUID().slice(0, 8);
  const org = fake.state.addOrganization(`Org ${run}`);
  const token = fake.state.addToken(org, { createdAt: new Date(Date.now() - options.ageDays * DAY) });
  const secretId = `test/workers/${run}`;
  await store.putCurrent(secretId, JSON.stringify({ token: token.token, tokenId: token.id }));
  const id = `credly-${run}`;
  const yaml = `  - id: ${id}
    kind: credly-authorization-token
    secretId: ${secretId}
    organizationId: ${org}
    environment: production
    schedule: "${options.schedule ?? '0 3 * * *'}"
    endpoints: { apiBase: "${fake.apiBase}" }
`;
  /** The tokens the rotator created for this credential at the fake. */
  const created = () => fake.state.tokens(org).filter((t) => parseMarker(t.description)?.credentialId === id);
  return { id, org, token, secretId, yaml, created };
}

export function writeInventory(dir: string, name: string, entries: Array<{ yaml: string }>): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `version: 1\ncredentials:\n${entries.map((e) => e.yaml).join('')}`);
  return path;
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
