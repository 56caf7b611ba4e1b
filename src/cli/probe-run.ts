import type { CredentialBase, Inventory } from '../config/index.ts';
import { asKindConfig } from '../kinds/kind.ts';
import { kindOf } from '../kinds/registry.ts';
import type { ProbeOptions } from '../probe/common.ts';
import { probeNotStarted, type CredentialProbe } from '../probe/findings.ts';

export interface ProbeDeps extends ProbeOptions {
  inventory: Pick<Inventory, 'credentials'>;
  /** The SecretString of a secret's AWSCURRENT version (read only: the probe never writes a secret). */
  readSecret(secretId: string): Promise<string>;
}

/** One credential's probe, by its kind (each kind loads its probe's code only when it is probed). */
export async function probeCredential(credential: CredentialBase, deps: ProbeDeps): Promise<CredentialProbe> {
  const context = {
    allowWrites: deps.allowWrites,
    ...(deps.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: deps.requestTimeoutMs }),
    credentials: deps.inventory.credentials,
    readSecret: (secretId: string) => deps.readSecret(secretId),
  };
  try {
    const kind = kindOf(credential.kind);
    if (!kind) throw new Error(`no probe for kind ${credential.kind}`);
    return await kind.probe(asKindConfig(credential), context);
  } catch (error) {
    return probeNotStarted(credential.id, credential.kind, error);
  }
}
