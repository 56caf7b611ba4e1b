export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

export interface SecretVersion {
  versionId: string;
  stages: string[];
  createdAt?: Date;
}

export interface StoredSecret {
  versionId: string;
  secretString: string;
}

/** What a secret the rotator creates carries (the inventory's kmsKeyId and tags). */
export interface CreateSecretOptions {
  /** Secrets Manager's own key (aws/secretsmanager) when unset. */
  kmsKeyId?: string | undefined;
  tags?: Record<string, string> | undefined;
}

/** Staged versions of Secrets Manager secrets, as the rotation protocol (docs/design.md) needs them. */
export interface SecretStore {
  /** The AWSCURRENT version. */
  readCurrent(secretId: string): Promise<StoredSecret>;
  /** The AWSPENDING version, or undefined when the secret exists without one. */
  readPending(secretId: string): Promise<StoredSecret | undefined>;
  /**
   * The version a staging label is on, read by that label; undefined when the secret exists and no
   * version carries it. A missing secret is SecretNotFoundError.
   */
  readStage(secretId: string, stage: string): Promise<StoredSecret | undefined>;
  /** Takes a staging label off one version (the version itself stays in the history). Idempotent. */
  unlabel(secretId: string, stage: string, versionId: string): Promise<void>;
  readVersion(secretId: string, versionId: string): Promise<StoredSecret>;
  /** When Secrets Manager created a version; SecretNotFoundError when there is no such version. */
  versionCreatedAt(secretId: string, versionId: string): Promise<Date | undefined>;
  /**
   * Stores a version labelled AWSPENDING whose id is the rotation id (its ClientRequestToken), so
   * a retried write of the same rotation lands on the same version: same id and value twice → same
   * version, no error; same id with another value → SecretConflictError. Moves AWSPENDING to it.
   */
  putPending(secretId: string, rotationId: string, secretString: string): Promise<{ versionId: string }>;
  /**
   * AWSCURRENT → versionId (Secrets Manager labels the old current AWSPREVIOUS), then AWSPENDING
   * removed from it. Idempotent: a repeat finds the work done and changes nothing.
   */
  promote(secretId: string, versionId: string): Promise<void>;
  /**
   * Every labelled version (all pages of ListSecretVersionIds); with `includeDeprecated`, the
   * versions without a label too (Secrets Manager keeps about a hundred of them).
   */
  listVersions(secretId: string, options?: { includeDeprecated?: boolean }): Promise<SecretVersion[]>;
  /** Creates the secret, or puts a new AWSCURRENT value (seeding: demo, tests, CLI, first install). */
  putCurrent(secretId: string, secretString: string): Promise<{ versionId: string }>;
  /**
   * Creates a secret that does not exist yet, its first version (AWSCURRENT) having the rotation id
   * as version id. A retry with the same id and value finds it done.
   */
  create(secretId: string, rotationId: string, secretString: string, options?: CreateSecretOptions): Promise<{ versionId: string }>;
}
