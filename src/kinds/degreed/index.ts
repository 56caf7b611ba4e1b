import { validatedKind } from '../kind.ts';
import { degreedSchema } from './schema.ts';
import { createDegreedValidator } from './validator.ts';

/** Degreed client credentials, issued by hand in Degreed: proven by a token grant with their scopes (and a read, and a logout). */
export const degreedClientCredentials = validatedKind(degreedSchema, 'Degreed', createDegreedValidator, () => import('./probe.ts'));
