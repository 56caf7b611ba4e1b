import { httpOptions, probeWithSecret, type ValidatedKind } from '../kind.ts';
import { KIND, learnlinkEntry, learnlinkProblems, learnlinkSecret, type LearnlinkConfig, type LearnlinkSecret } from './schema.ts';
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
  probe: probeWithSecret(learnlinkSecret, async () => (await import('./probe.ts')).probeLearnlink),
};
