import type { CredentialBase, Inventory } from '../config/index.ts';
import { UsageError } from './exit-codes.ts';

/** The inventory's credentials named by `ids` (all of them for none); an unknown id is bad usage. */
export function selectCredentials<C extends CredentialBase>(inventory: Inventory<C>, ids: string[]): C[] {
  if (ids.length === 0) return inventory.credentials;
  const unknown = ids.filter((id) => !inventory.credentials.some((c) => c.id === id));
  if (unknown.length) throw new UsageError(`unknown credential id(s): ${unknown.join(', ')}`);
  return inventory.credentials.filter((c) => ids.includes(c.id));
}

/** The one credential `id` names; an unknown id is bad usage, and the message lists the inventory's. */
export function selectCredential<C extends CredentialBase>(inventory: Pick<Inventory<C>, 'credentials'>, id: string): C {
  const credential = inventory.credentials.find((c) => c.id === id);
  if (!credential) throw new UsageError(`unknown credential id "${id}" (the inventory has ${inventory.credentials.map((c) => c.id).join(', ')})`);
  return credential;
}
