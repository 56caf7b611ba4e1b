import type { z } from 'zod';
import type { ProviderHttp } from './http.ts';

/**
 * A GET under an API base with a bearer token, as probes make them: whether it answered with a body
 * of the expected shape. Every failure counts as "no" (the caller reads the status from its wire).
 */
export function bearerRead(http: ProviderHttp, url: string, accessToken: string, shape: z.ZodType): Promise<boolean> {
  const request = {
    operation: 'probe-read',
    method: 'GET' as const,
    url,
    headers: { authorization: `Bearer ${accessToken}` },
    parse: shape,
    secrets: [accessToken],
  };
  return http.request(request).then(
    () => true,
    () => false,
  );
}
