import { createHmac } from 'node:crypto';
import { alertTitle, type Alert, type AlertSink } from './alert.ts';

/** PagerDuty's Events API v2 endpoint. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

export interface SinkHttpOptions {
  /** Deadline of one delivery, in ms. Default 10000. */
  timeoutMs?: number;
}

/** POSTs JSON; any non-2xx is an error naming the sink and the status, never the URL (it may be secret). */
async function postJson(sinkId: string, url: string, body: string, headers: Record<string, string>, options: SinkHttpOptions): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      redirect: 'error',
    });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    // The cause is left out on purpose: fetch's errors can quote the URL, and a Slack webhook URL is a secret.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`alert sink "${sinkId}": ${(error as Error).name === 'TimeoutError' ? 'no answer in time' : `network error${code ? ` (${code})` : ''}`}`);
  }
  await response.body?.cancel();
  if (!response.ok) throw new Error(`alert sink "${sinkId}": answered ${response.status}`);
}

/** Longest message an alert carries: enough for the rotator's own messages, not for a page of provider text. */
const MAX_MESSAGE = 1_000;

/**
 * Text that came (partly) from a provider, made plain: control and bidirectional-override
 * characters removed (they can hide or reorder what a reader sees), whitespace collapsed, length capped.
 */
export function plainText(text: string, max = MAX_MESSAGE): string {
  const out = text
    .replace(/[\p{Cc}\u200b-\u200f\u202a-\u202e\u2066-\u2069]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return out.length > max ? `${out.slice(0, max)}…` : out;
}

/** An e-mail address as Slack would link it (`mailto:`): a local part, `@`, a dotted domain. */
const EMAIL = /([\p{L}\p{N}._%+-]+)@((?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+(?:\p{L}{2,63}|xn--[a-z0-9-]+))(?![\p{L}\p{N}-])/giu;
/** A bare domain as Slack would link it: labels joined by dots, ending in a top-level label of letters (or punycode). */
const DOMAIN = /(?<![\p{L}\p{N}-])(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+(?:\p{L}{2,63}|xn--[a-z0-9-]+)(?![\p{L}\p{N}-])/giu;

/**
 * Text for Slack mrkdwn: escaped as Slack asks (`&`, `<`, `>`), so a provider's text cannot make a
 * mention (`<!channel>`, `<@U…>`) or a link (`<https://…|text>`); URLs, bare domains and e-mail
 * addresses are defanged (`https[:]//evil[.]example`, `user[@]evil[.]example`) so Slack turns none
 * of them into a link, and `@here`-style words cannot notify.
 */
export function slackText(text: string): string {
  return plainText(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([a-z][a-z0-9+.-]*):\/\//gi, '$1[:]//')
    .replace(EMAIL, '$1[@]$2')
    .replace(DOMAIN, (domain) => domain.replace(/\./g, '[.]'))
    .replace(/@(here|channel|everyone)\b/gi, '@\u200b$1');
}

/** The classified fields of an alert, and its message as plain text: nothing else goes to a webhook or PagerDuty. */
function details(alert: Alert) {
  const { type, topic, credentialId, kind, step, errorClass, attempts, jobId, occurredAt, daysToExpiry, critical } = alert;
  return { type, topic, credentialId, kind, step, errorClass, message: plainText(alert.message), attempts, jobId, occurredAt, daysToExpiry, critical };
}

/** A Slack incoming webhook: one message per alert. */
export function createSlackSink(id: string, webhookUrl: string, credentials?: readonly string[], options: SinkHttpOptions = {}): AlertSink {
  return {
    id,
    credentials,
    send(alert) {
      const lines = [
        `*${slackText(alertTitle(alert))}*`,
        slackText(alert.message),
        slackText(`job ${alert.jobId}${alert.attempts ? `, ${alert.attempts} attempt(s)` : ''}`),
      ];
      // No unfurling: nothing in an alert should fetch a preview of a page a provider named.
      return postJson(id, webhookUrl, JSON.stringify({ text: lines.join('\n'), unfurl_links: false, unfurl_media: false }), {}, options);
    },
  };
}

/**
 * PagerDuty Events v2: a trigger per failure, deduplicated per credential, and a resolve when that
 * credential next succeeds.
 */
export function createPagerDutySink(
  id: string,
  routingKey: string,
  severity: 'critical' | 'error' | 'warning' | 'info',
  options: SinkHttpOptions & { url?: string; credentials?: readonly string[] } = {},
): AlertSink {
  return {
    id,
    credentials: options.credentials,
    send(alert) {
      // A warning is an incident of its own: its resolve must not close the credential's failure, nor the reverse.
      const dedupKey = `credential-rotator/${alert.credentialId}${alert.topic ? `/${alert.topic}` : ''}`;
      const event =
        alert.type === 'resolved'
          ? { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey }
          : {
              routing_key: routingKey,
              event_action: 'trigger',
              dedup_key: dedupKey,
              payload: {
                summary: plainText(`${alertTitle(alert)}: ${alert.message}`, 1_000),
                source: 'credential-rotator',
                severity: alert.critical ? 'critical' : alert.type === 'warning' ? 'warning' : severity,
                component: alert.kind,
                group: alert.credentialId,
                class: alert.errorClass,
                custom_details: details(alert),
              },
            };
      return postJson(id, options.url ?? PAGERDUTY_EVENTS_URL, JSON.stringify(event), {}, options);
    },
  };
}

/** The signature of a webhook body: hex HMAC-SHA256 of `<timestamp>.<body>`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * A generic webhook: the alert as JSON, signed. `X-Rotator-Timestamp` (unix seconds) is part of the
 * signed text so a receiver can refuse replays; `X-Rotator-Signature: sha256=<hex>`.
 */
export function createWebhookSink(id: string, url: string, signingSecret: string, credentials?: readonly string[], options: SinkHttpOptions = {}): AlertSink {
  return {
    id,
    credentials,
    send(alert) {
      const body = JSON.stringify({ ...details(alert), title: alertTitle(alert) });
      const timestamp = String(Math.floor(Date.now() / 1000));
      return postJson(
        id,
        url,
        body,
        { 'x-rotator-timestamp': timestamp, 'x-rotator-signature': `sha256=${webhookSignature(signingSecret, timestamp, body)}` },
        options,
      );
    },
  };
}
