import type { StatusView } from './collect.ts';

/**
 * The status view anyone who reaches the ops port may see: ids, states, results, classes, dates
 * and figures. Texts are left out: they quote AWS (role ARNs, account ids, secret names) and
 * providers, and are for the dashboard's users only. The last message goes; what became of the
 * replaced credential is told by its class (`revoke-failed`, not the refusal it quotes).
 */
export function withoutMessages(view: StatusView): StatusView {
  return { ...view, credentials: view.credentials.map((c) => ({ ...c, lastSummary: null, previousState: c.previousStateClass })) };
}

/**
 * The status view read at most once per `ttlMs`, whoever asks and however often: a flood of
 * requests to /status, /status.json or /metrics costs Redis one read of every credential per
 * period, not one per request. Concurrent callers share the read in flight; a failed read is not kept.
 */
export function cachedStatus(read: () => Promise<StatusView>, ttlMs = 3_000, now: () => number = Date.now): () => Promise<StatusView> {
  let cached: { at: number; view: Promise<StatusView> } | undefined;
  return () => {
    if (cached && now() - cached.at < ttlMs) return cached.view;
    const entry = { at: now(), view: read() };
    cached = entry;
    entry.view.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return entry.view;
  };
}
