import { httpOptions, type ValidatedKind } from '../kind.ts';
import { degreedEntry, degreedProbeProblems, degreedSecret, KIND, parseDegreedSecret, type DegreedConfig, type DegreedSecret } from './schema.ts';
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
  async probe(credential, context) {
    const secret = parseDegreedSecret(await context.readSecret(credential.secretId), { secretId: credential.secretId });
    const { probeDegreed } = await import('./probe.ts');
    return probeDegreed(credential, secret, context);
  },
};
