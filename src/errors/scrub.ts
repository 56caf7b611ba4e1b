/**
 * Scrubbing of secret values out of text that may reach logs, Redis, status and alerts: provider
 * error text, AWS messages. A provider can echo what it was sent in another form than it was sent
 * in, so each value is looked for in every form it travels in: raw, percent-encoded
 * (encodeURIComponent, with upper- or lower-case hex), form-encoded (space as `+`), JSON-escaped,
 * and base64 (standard, unpadded and URL-safe), also of `value:` as in HTTP Basic auth with an
 * empty password.
 */

export const REDACTED = '[redacted]';

/** Shorter values are not looked for: they would match ordinary words. */
const MIN_LENGTH = 4;

const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
const base64Forms = (text: string) => {
  const b64 = Buffer.from(text).toString('base64');
  return [b64, b64.replace(/=+$/, ''), Buffer.from(text).toString('base64url')];
};

/** Every form in which `value` may come back, longest first (so no longer form is left half-replaced). */
export function secretForms(value: string): string[] {
  if (value.length < MIN_LENGTH) return [];
  const percent = encodeURIComponent(value);
  const form = new URLSearchParams({ v: value }).toString().slice(2);
  const forms = [
    value,
    percent,
    lowerHex(percent),
    form,
    lowerHex(form),
    JSON.stringify(value).slice(1, -1),
    ...base64Forms(value),
    ...base64Forms(`${value}:`),
  ];
  return [...new Set(forms)].filter((f) => f.length >= MIN_LENGTH).sort((a, b) => b.length - a.length);
}

/** Replaces every form of every value; run it before any shortening, which could cut a form in two. */
export function scrubSecrets(text: string, values: readonly string[]): string {
  let out = text;
  const forms = [...new Set(values.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
  return out;
}
