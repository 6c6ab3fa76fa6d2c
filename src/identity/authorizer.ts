import { AccessDeniedException } from '../shared/index.js';
import type { Caller, ResourcePolicies } from './caller.js';
import { evaluatePolicies } from './policy-evaluation.js';

/** One request as the authorizer sees it: who, what, on which resource, and that resource's account. */
export interface AccessRequest {
  readonly caller: Caller;
  /** `lambda:InvokeFunction`, `logs:FilterLogEvents`, `kindling:ListKeys`... */
  readonly action: string;
  /** The resource's ARN, or `*` for actions on no one resource (ListFunctions). */
  readonly resource: string;
  /** The account that owns the resource (the caller's own unless the request named another's ARN). */
  readonly resourceAccount: string;
  readonly sourceArn?: string;
  readonly sourceAccount?: string;
  readonly functionUrlAuthType?: string;
}

/**
 * IAM's decision for one request: the caller's identity policies must allow it (an explicit Deny
 * wins, default deny); across accounts the resource's own policy must allow it as well. Denials
 * say why in AWS's words.
 */
export class Authorizer {
  readonly #resources: ResourcePolicies | undefined;

  /** Without resource policies, every cross-account request is denied. */
  constructor(resources?: ResourcePolicies) {
    this.#resources = resources;
  }

  authorize(request: AccessRequest): void {
    const { caller, action, resource } = request;
    const decision = evaluatePolicies(caller.policies, action, resource);
    if (decision === 'explicit-deny') throw denied(request, 'with an explicit deny in an identity-based policy');
    if (decision === 'implicit-deny') throw denied(request, `because no identity-based policy allows the ${action} action`);
    if (request.resourceAccount === caller.accountId) return;
    const allowed =
      this.#resources?.allows(resource, {
        caller,
        action,
        ...(request.sourceArn === undefined ? {} : { sourceArn: request.sourceArn }),
        ...(request.sourceAccount === undefined ? {} : { sourceAccount: request.sourceAccount }),
        ...(request.functionUrlAuthType === undefined ? {} : { functionUrlAuthType: request.functionUrlAuthType }),
      }) ?? false;
    if (!allowed) throw denied(request, `because no resource-based policy allows the ${action} action`);
  }
}

function denied({ caller, action, resource }: AccessRequest, why: string): AccessDeniedException {
  return new AccessDeniedException(`User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}`);
}
