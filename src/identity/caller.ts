/**
 * Who is calling: the principal a request was authenticated as (or the default account's
 * administrator under `--auth none`). Every handler gets one on its RouteContext; the control plane
 * scopes what it reads and writes to `caller.accountId`.
 */
export interface Caller {
  /** The 12-digit account the principal belongs to; resources it creates belong to this account. */
  readonly accountId: string;
  /**
   * The principal's ARN as AWS's errors name it: `arn:aws:iam::<account>:user/<name>` for a key,
   * `arn:aws:sts::<account>:assumed-role/<role>/<session>` for a function's role credentials,
   * `arn:aws:iam::<account>:root` for the unauthenticated default (`--auth none`).
   */
  readonly arn: string;
  /** The access key the request was signed with (absent under `--auth none`). */
  readonly accessKeyId?: string;
  /**
   * The identity policies that bound what the principal may do, or `'all'` when nothing restricts it
   * (`--auth none`, and an account's admin key).
   */
  readonly policies: readonly PolicyDocument[] | 'all';
}

/** One IAM-style statement: Effect, Action (wildcards), Resource (ARN wildcards), optional Condition. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly PolicyStatement[];
}

/** What a signed request's access key resolves to: its secret, and who it speaks for. */
export interface ResolvedKey {
  readonly secretAccessKey: string;
  /** Temporary credentials carry a session token that the request must present (X-Amz-Security-Token). */
  readonly sessionToken?: string;
  /** Epoch ms after which temporary credentials answer ExpiredTokenException. */
  readonly expiresAt?: number;
  readonly caller: Caller;
}

/**
 * Somewhere access keys are known: the long-term keys table, the session credentials issued to
 * functions' roles. The authenticator asks each in turn.
 */
export interface CredentialSource {
  /** `sessionToken`: the request's X-Amz-Security-Token, which temporary credentials carry their claims in. */
  resolve(accessKeyId: string, sessionToken?: string): Promise<ResolvedKey | undefined>;
}

/** The caller under `--auth none`: the default account, unrestricted. */
export function anonymousCaller(accountId: string): Caller {
  return { accountId, arn: `arn:aws:iam::${accountId}:root`, policies: 'all' };
}

/** What a request asks a resource's own policy (Lambda's AddPermission statements). */
export interface ResourceRequest {
  readonly caller: Caller;
  /** `lambda:InvokeFunction`, `lambda:GetLayerVersion`, ... */
  readonly action: string;
  /** Conditions Lambda's resource policies test (`AWS:SourceArn`, `AWS:SourceAccount`). */
  readonly sourceArn?: string;
  readonly sourceAccount?: string;
  /** `lambda:FunctionUrlAuthType`: set on requests through a function URL. */
  readonly functionUrlAuthType?: string;
}

/**
 * Resource-based policies (functions, aliases, layer versions). Access from another account needs
 * one of these to allow it, besides the caller's own identity policies. Read from memory: Invoke
 * asks it on the hot path.
 */
export interface ResourcePolicies {
  allows(resourceArn: string, request: ResourceRequest): boolean;
}
