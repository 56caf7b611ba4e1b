/** Largest provider answer read, in bytes: every answer the rotator needs is a few kB. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The answer's body was larger than the cap: the read stopped there and the rest was dropped. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  readonly limit: number;
  constructor(limit: number) {
    super(`an answer larger than ${limit / 1024 / 1024} MiB`);
    this.limit = limit;
  }
}

/**
 * Reads a response body as UTF-8 text, at most `limit` bytes: a larger one (by its Content-Length,
 * or as it streams in) is cancelled and refused with BodyTooLargeError, never buffered whole.
 * Network errors while reading are thrown as they come. The cancel is not waited for: on a clone
 * (a tee) it settles only once the other branch is done too, which its reader may be waiting on.
 */
export async function readCapped(response: Response, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    response.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(limit);
  }
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // The rest of the body is never read.
      reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(limit);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
