import { z } from 'zod';

/**
 * Credly's answers, as docs/providers.md describes them. Unknown fields are allowed (and dropped):
 * Credly adds fields, and a new one must not fail a rotation.
 */

const timestamp = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'is not a date');

export const credlyTokenSchema = z.object({
  id: z.string().min(1),
  token: z.string().min(1),
  description: z.string().nullable().optional(),
  write_enabled: z.boolean(),
  read_enabled: z.boolean(),
  delete_enabled: z.boolean(),
  created_at: timestamp,
  expires_at: timestamp,
  // Unused: accepted in whatever shape, so a change there cannot fail a rotation.
  owner_id: z.unknown().optional(),
  owner: z.unknown().optional(),
});
export type CredlyTokenJson = z.infer<typeof credlyTokenSchema>;

/**
 * Pagination (vendor pages 004 lines 56–64, 002 lines 42–50): `next_page_url` is followed when it
 * is on the API origin; otherwise `current_page`, `total_pages` and `per` drive `page`/`per` on the
 * API base (pages.ts). A page without any of them ends the listing.
 */
const pageNumber = z
  .number()
  .int()
  .nullable()
  .optional()
  .transform((v) => v ?? undefined);
const pageMetadata = z.object({
  next_page_url: z.string().nullable().optional(),
  current_page: pageNumber,
  total_pages: pageNumber,
  per: pageNumber,
});
export type CredlyPageMetadataJson = z.infer<typeof pageMetadata>;

/** What pages.ts reads of a page's metadata. */
export function pageInfo(metadata: CredlyPageMetadataJson | undefined) {
  return { next: metadata?.next_page_url, currentPage: metadata?.current_page, totalPages: metadata?.total_pages, per: metadata?.per };
}

/**
 * A page's items are checked one by one (listed-records.ts): one record in a shape the pages do not
 * give must not fail the listing of a whole organization.
 */
export const credlyTokenPageSchema = z.object({
  data: z.array(z.unknown()),
  metadata: pageMetadata.optional(),
});
export type CredlyTokenPageJson = z.infer<typeof credlyTokenPageSchema>;

/** `POST authorization_tokens` answers `{ data: token, metadata: {} }`. */
export const credlyTokenAnswerSchema = z.object({ data: credlyTokenSchema });

export const credlyOrganizationSchema = z.object({ data: z.object({ id: z.string().min(1), name: z.string() }) });

export const credlyApplicationSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().nullable().optional(),
  uid: z.string().min(1),
  secret: z.string().nullable().optional(),
  created_at: timestamp,
});
export type CredlyApplicationJson = z.infer<typeof credlyApplicationSchema>;

export const credlyApplicationPageSchema = z.object({
  data: z.array(z.unknown()),
  metadata: pageMetadata.optional(),
});

export const credlyApplicationAnswerSchema = z.object({ data: credlyApplicationSchema });

/** Doorkeeper's client_credentials answer. */
export const credlyAccessTokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  // A token that is already expired is no proof that the application works.
  expires_in: z.number().positive().optional(),
  scope: z.string().optional(),
});
