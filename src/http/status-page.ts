import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CredentialView, StatusView } from '../status/collect.ts';

/** Rows rendered between two turns of the event loop: thousands of credentials never hold it for long. */
export const RENDER_CHUNK = 250;

/** `render` of every item, `RENDER_CHUNK` at a time, letting the event loop run between chunks. */
export async function renderInChunks<T>(items: readonly T[], render: (item: T) => string, separator: string): Promise<string> {
  const parts: string[] = [];
  for (let i = 0; i < items.length; i += RENDER_CHUNK) {
    if (i > 0) await nextTurn();
    parts.push(
      items
        .slice(i, i + RENDER_CHUNK)
        .map(render)
        .join(separator),
    );
  }
  return parts.join(separator);
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const MAX_DAYS = 180;

/** Time left before expiry as a bar (full at 180 days, red inside 7 days, amber inside 30) and the expiry itself. */
function expiryBar(days: number | null, expiresAt: string | null): string {
  if (days === null || expiresAt === null) return '<span class="muted">no expiry</span>';
  const width = Math.max(0, Math.min(100, (days / MAX_DAYS) * 100)).toFixed(1);
  const tone = days <= 7 ? 'bad' : days <= 30 ? 'warn' : 'good';
  return `<span class="expiry"><div class="bar" role="meter" aria-valuemin="0" aria-valuemax="${MAX_DAYS}" aria-valuenow="${days}" title="${days} days left"><div class="fill ${tone}" style="width:${width}%"></div></div> <span>${days} days</span></span><br><span class="muted">expires ${escape(expiresAt)}</span>`;
}

/** Replaced credentials still valid at the provider (their ids, never values): a person must revoke them. */
function unrevoked(refs: readonly string[]): string {
  return refs.length ? `<br><span class="state bad">NOT revoked: ${escape(refs.join(', '))} — revoke by hand</span>` : '';
}

/** Credentials the secret names that are not provably its own (their ids): never deleted, for a person to check. */
function unproven(refs: readonly string[]): string {
  return refs.length ? `<br><span class="state warn">not provably this secret's, never deleted: ${escape(refs.join(', '))} — check by hand</span>` : '';
}

/** Credentials the rotator made and leaves for a person (their ids): never reaped. */
function leftAlone(refs: readonly string[]): string {
  return refs.length
    ? `<br><span class="state warn">left alone for a person, never reaped: ${escape(refs.join(', '))} — delete by hand once unused</span>`
    : '';
}

/** The read-only status page: one row per credential. Ids, states, classes and dates; messages only when the view holds them. */
function row(c: CredentialView): string {
  return `<tr data-credential="${escape(c.id)}">
  <td><strong>${escape(c.id)}</strong><br><span class="muted">${escape(c.kind)}</span>${unrevoked(c.unrevoked)}${unproven(c.unproven)}${leftAlone(c.leftAlone)}</td>
  <td><span class="state ${c.state === 'ok' ? 'good' : c.state === 'failing' ? 'bad' : 'warn'}">${escape(c.state)}</span></td>
  <td>${escape(c.lastResult ?? '-')}${c.errorClass && c.errorClass !== c.lastResult ? ` <code>${escape(c.errorClass)}</code>` : ''}<br><span class="muted">${escape(c.lastSummary ?? '')}</span></td>
  <td>${escape(c.lastCheckAt ?? 'never')}<br><span class="muted last-success">last success: ${escape(c.lastSuccessAt ?? 'never')}</span></td>
  <td>${expiryBar(c.daysToExpiry, c.expiresAt)}</td>
  <td>${escape(c.nextRunAt ?? '-')}</td>
</tr>`;
}

/**
 * The read-only status page: one row per credential. Ids, states, classes and dates; messages only
 * when the view holds them. Rendered `RENDER_CHUNK` rows at a time, the event loop free between.
 */
export async function renderStatusPage(view: StatusView): Promise<string> {
  const rows = await renderInChunks(view.credentials, row, '\n');
  const q = view.queue;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="30">
<title>credential-rotator status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2330; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .5rem .75rem; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
  .muted { color: #6b7280; font-size: 12px; }
  .expiry { white-space: nowrap; }
  .state { padding: 2px 8px; border-radius: 10px; font-weight: 600; }
  .bar { display: inline-block; width: 160px; height: 10px; background: #e3e6ec; border-radius: 5px; vertical-align: middle; }
  .fill { height: 100%; border-radius: 5px; }
  .good { background: #c9f2d6; } .fill.good { background: #1f9d55; }
  .warn { background: #fdecc8; } .fill.warn { background: #d98a00; }
  .bad { background: #fbd5d5; } .fill.bad { background: #c81e1e; }
</style>
</head>
<body>
<h1>credential-rotator</h1>
${
  view.redis === 'unreachable'
    ? `<p class="state bad stale">Redis unreachable: these are the values read at ${escape(view.readAt ?? view.generatedAt)}, shown until it answers again.</p>\n`
    : ''
}<p class="muted">Generated ${escape(view.generatedAt)} · queue: ${q.waiting ?? 0} waiting, ${q.active ?? 0} active, ${q.delayed ?? 0} delayed, ${q.failed ?? 0} failed</p>
<table>
<thead><tr><th>Credential</th><th>State</th><th>Last result</th><th>Last check</th><th>Time left before expiry</th><th>Next run</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</body>
</html>
`;
}

/**
 * `/status.json`: the view as JSON, its top level indented, one line per credential, rendered
 * `RENDER_CHUNK` credentials at a time.
 */
export async function renderStatusJson(view: StatusView): Promise<string> {
  const marker = '@@credentials@@';
  const rows = await renderInChunks(view.credentials, (c) => `    ${JSON.stringify(c)}`, ',\n');
  const list = view.credentials.length ? `[\n${rows}\n  ]` : '[]';
  return `${JSON.stringify({ ...view, credentials: marker }, null, 2).replace(`"${marker}"`, () => list)}\n`;
}
