import type { CredentialConfig, Inventory } from '../config/index.ts';
import { parseSecretValue, type SecretValues } from '../secrets/secret-values.ts';
import type { ProbeOptions } from './common.ts';
import { probeNotStarted, type CredentialProbe } from './findings.ts';

export interface ProbeDeps extends ProbeOptions {
  inventory: Inventory;
  /** The SecretString of a secret's AWSCURRENT version (read only: the probe never writes a secret). */
  readSecret(secretId: string): Promise<string>;
}

async function secretOf<K extends keyof SecretValues>(deps: ProbeDeps, kind: K, secretId: string): Promise<SecretValues[K]> {
  return parseSecretValue(kind, await deps.readSecret(secretId), { secretId });
}

/** One credential's probe, by its kind; each kind's module is loaded only when it is probed. */
export async function probeCredential(credential: CredentialConfig, deps: ProbeDeps): Promise<CredentialProbe> {
  const options: ProbeOptions = { allowWrites: deps.allowWrites, ...(deps.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: deps.requestTimeoutMs }) };
  try {
    switch (credential.kind) {
      case 'credly-authorization-token': {
        const secret = await secretOf(deps, credential.kind, credential.secretId);
        const { probeCredlyToken } = await import('../kinds/credly/authorization-token/probe.ts');
        return await probeCredlyToken(credential, secret, options);
      }
      case 'credly-oauth-application': {
        // Validated at load: managedBy names a Credly token credential of the same organization.
        const manager = deps.inventory.credentials.find((c) => c.id === credential.managedBy);
        if (manager?.kind !== 'credly-authorization-token') throw new Error(`managedBy "${credential.managedBy}" is not a Credly token credential`);
        const managerToken = (await secretOf(deps, manager.kind, manager.secretId)).token;
        // A lost application secret is what the rotator repairs: the probe goes on without it.
        const secret = await secretOf(deps, credential.kind, credential.secretId).catch((error: unknown) => ({ problem: error }));
        const { probeCredlyApplication } = await import('../kinds/credly/oauth-application/probe.ts');
        return await probeCredlyApplication(credential, { secret, managerToken }, options);
      }
      case 'degreed-client-credentials': {
        const secret = await secretOf(deps, credential.kind, credential.secretId);
        const { probeDegreed } = await import('../kinds/degreed/probe.ts');
        return await probeDegreed(credential, secret, options);
      }
      case 'learnlink-client-credentials': {
        const secret = await secretOf(deps, credential.kind, credential.secretId);
        const { probeLearnlink } = await import('../kinds/learnlink/probe.ts');
        return await probeLearnlink(credential, secret, options);
      }
    }
  } catch (error) {
    return probeNotStarted(credential.id, credential.kind, error);
  }
}
