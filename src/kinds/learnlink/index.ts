import { validatedKind } from '../kind.ts';
import { learnlinkSchema } from './schema.ts';
import { createLearnlinkValidator } from './validator.ts';

/** Learn.link (Thrive) client credentials, issued by hand: proven by a token grant for their audience and scopes (and a read). */
export const learnlinkClientCredentials = validatedKind(learnlinkSchema, 'Learn.link', createLearnlinkValidator, () => import('./probe.ts'));
