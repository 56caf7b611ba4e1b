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

function details(alert: Alert) {
  const { type, topic, credentialId, kind, step, errorClass, message, attempts, jobId, occurredAt, daysToExpiry, critical } = alert;
  return { type, topic, credentialId, kind, step, errorClass, message, attempts, jobId, occurredAt, daysToExpiry, critical };
}

/** A Slack incoming webhook: one message per alert. */
export function createSlackSink(id: string, webhookUrl: string, credentials?: readonly string[], options: SinkHttpOptions = {}): AlertSink {
  return {
    id,
    credentials,
    send(alert) {
      const lines = [`*${alertTitle(alert)}*`, alert.message, `job ${alert.jobId}${alert.attempts ? `, ${alert.attempts} attempt(s)` : ''}`];
      return postJson(id, webhookUrl, JSON.stringify({ text: lines.join('\n') }), {}, options);
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
                summary: `${alertTitle(alert)}: ${alert.message}`.slice(0, 1024),
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
      return postJson(id, url, body, { 'x-rotator-timestamp': timestamp, 'x-rotator-signature': `sha256=${webhookSignature(signingSecret, timestamp, body)}` }, options);
    },
  };
}
