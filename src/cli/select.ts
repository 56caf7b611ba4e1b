import type { CredentialBase, Inventory } from '../config/index.ts';
import { UsageError } from './exit-codes.ts';

/** The inventory's credentials named by `ids` (all of them for none); an unknown id is bad usage. */
export function selectCredentials<C extends CredentialBase>(inventory: Inventory<C>, ids: string[]): C[] {
  if (ids.length === 0) return inventory.credentials;
  const unknown = ids.filter((id) => !inventory.credentials.some((c) => c.id === id));
  if (unknown.length) throw new UsageError(`unknown credential id(s): ${unknown.join(', ')}`);
  return inventory.credentials.filter((c) => ids.includes(c.id));
}
