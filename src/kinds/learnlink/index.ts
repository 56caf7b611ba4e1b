import { httpOptions, type ValidatedKind } from '../kind.ts';
import { KIND, learnlinkEntry, learnlinkProblems, learnlinkSecret, parseLearnlinkSecret, type LearnlinkConfig, type LearnlinkSecret } from './schema.ts';
import { createLearnlinkValidator } from './validator.ts';

/** Learn.link (Thrive) client credentials, issued by hand: proven by a token grant for their audience and scopes (and a read). */
export const learnlinkClientCredentials: ValidatedKind<LearnlinkConfig, LearnlinkSecret> = {
  kind: KIND,
  provider: 'Learn.link',
  mode: 'validate',
  entry: learnlinkEntry,
  secret: learnlinkSecret,
  crossCheck: learnlinkProblems,
  validator: (context) => createLearnlinkValidator(httpOptions(context, { limited: false })),
  async probe(credential, context) {
    const secret = parseLearnlinkSecret(await context.readSecret(credential.secretId), { secretId: credential.secretId });
    const { probeLearnlink } = await import('./probe.ts');
    return probeLearnlink(credential, secret, context);
  },
};
