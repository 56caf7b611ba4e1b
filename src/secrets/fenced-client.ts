import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { currentFence } from '../lease/fence.ts';

type Sender = Pick<SecretsManagerClient, 'send'>;

/**
 * A lock holder's calls (fence.ts): the lease is checked before each one, and the SDK gets the
 * fence's signal as `abortSignal`, so a write in flight is aborted when the lease is lost.
 */
export function fenced(client: Sender): Sender {
  const send = async (command: Parameters<Sender['send']>[0]) => {
    const fence = currentFence();
    if (!fence) return client.send(command);
    fence.assertHeld();
    try {
      return await client.send(command, { abortSignal: fence.signal });
    } catch (error) {
      fence.signal.throwIfAborted();
      throw error;
    }
  };
  return { send: send as Sender['send'] };
}
