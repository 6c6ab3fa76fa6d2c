/** How a function URL authenticates its callers (the AWS SDK model's FunctionUrlAuthType). */
export type FunctionUrlAuthType = 'NONE' | 'AWS_IAM';

/** Whether a function URL answers when the function returns, or streams as it writes. */
export type FunctionUrlInvokeMode = 'BUFFERED' | 'RESPONSE_STREAM';

/**
 * A function URL's CORS settings: the Lambda API's Cors member as given (its names, only what was
 * set), which is also what the URL server reads.
 */
export interface FunctionUrlCors {
  AllowCredentials?: boolean;
  AllowHeaders?: string[];
  AllowMethods?: string[];
  AllowOrigins?: string[];
  ExposeHeaders?: string[];
  MaxAge?: number;
}

/** One function URL: a function's `$LATEST` or one of its aliases, reached at its url-id. */
export interface FunctionUrlRecord {
  /** The function's key (scoped: `<account>:<name>` outside the default account). */
  functionName: string;
  /** `$LATEST` or an alias name (never a version: Lambda has no URL on one). */
  qualifier: string;
  /** 32 lower-case letters and digits, the first label of the URL's host; unique. */
  urlId: string;
  authType: FunctionUrlAuthType;
  cors?: FunctionUrlCors;
  invokeMode: FunctionUrlInvokeMode;
  /** Epoch ms. */
  creationTime: number;
  lastModifiedTime: number;
}

/** What an insert found: written, a URL already there for the function and qualifier, or no such function or alias. */
export type FunctionUrlInsert = 'created' | 'exists' | 'no-target';

/**
 * Function URLs, keyed by function and qualifier, found by url-id on every request to a URL. Writes
 * are announced on the change feed as changes of their function; a URL goes with its function (in
 * the function's deletion) and with its alias (in the alias's).
 */
export interface FunctionUrlTable {
  get(functionName: string, qualifier: string): Promise<FunctionUrlRecord | undefined>;
  byUrlId(urlId: string): Promise<FunctionUrlRecord | undefined>;
  /** A function's URLs, by qualifier. */
  list(functionName: string): Promise<FunctionUrlRecord[]>;
  /**
   * Writes a new URL if the function (and, for an alias, the alias) is there and has none yet for the
   * qualifier, checked in the write's own transaction.
   */
  insert(record: FunctionUrlRecord): Promise<FunctionUrlInsert>;
  /** Replaces an existing URL's settings; false if it is gone. */
  replace(record: FunctionUrlRecord): Promise<boolean>;
  /** False if there was none. */
  delete(functionName: string, qualifier: string): Promise<boolean>;
}
