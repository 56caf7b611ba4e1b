import { httpOptions, probeWithSecret, type ValidatedKind } from '../kind.ts';
import { degreedEntry, degreedProbeProblems, degreedSecret, KIND, type DegreedConfig, type DegreedSecret } from './schema.ts';
import { createDegreedValidator } from './validator.ts';

/** Degreed client credentials, issued by hand in Degreed: proven by a token grant with their scopes (and a read, and a logout). */
export const degreedClientCredentials: ValidatedKind<DegreedConfig, DegreedSecret> = {
  kind: KIND,
  provider: 'Degreed',
  mode: 'validate',
  entry: degreedEntry,
  secret: degreedSecret,
  crossCheck: degreedProbeProblems,
  validator: (context) => createDegreedValidator(httpOptions(context, { limited: false })),
  probe: probeWithSecret(degreedSecret, async () => (await import('./probe.ts')).probeDegreed),
};
