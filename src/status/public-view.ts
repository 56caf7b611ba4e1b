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

/**
 * The status view within `waitMs` whatever Redis does: the view read now when Redis answers in
 * time; else the last one read, marked `redis: 'unreachable'` with the time it was read
 * (`readAt`); `undefined` when no view was ever read. While the connection is down (`connected`
 * false) no read is even started: it would wait in the client's offline queue. Each view read gives
 * one marked object (fresh and stale), so whatever caches by view (the rendered bodies) keeps working.
 */
export function lastKnownStatus(
  read: () => Promise<StatusView>,
  options: { connected?: () => boolean; waitMs?: number } = {},
): () => Promise<StatusView | undefined> {
  const waitMs = options.waitMs ?? 500;
  let last: { view: StatusView; fresh: StatusView; stale: StatusView } | undefined;
  const remember = (view: StatusView): StatusView => {
    if (last?.view !== view) {
      const readAt = view.generatedAt;
      last = { view, fresh: { ...view, redis: 'reachable', readAt }, stale: { ...view, redis: 'unreachable', readAt } };
    }
    return last.fresh;
  };
  return async () => {
    if (options.connected && !options.connected()) return last?.stale;
    const reading = read().then(remember, () => undefined);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), waitMs);
      timer.unref();
    });
    const view = await Promise.race([reading, waited]);
    clearTimeout(timer);
    return view ?? last?.stale;
  };
}
