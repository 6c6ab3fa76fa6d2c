/** One inline policy of a role (IAM's PutRolePolicy): a named JSON policy document. */
export interface RolePolicyRecord {
  accountId: string;
  roleName: string;
  policyName: string;
  /** The policy document's JSON, as given (validated by the identity room). */
  document: string;
  updatedAt: number;
}

/** Functions' execution roles and the inline policies that say what their credentials may do. */
export interface RolePolicyTable {
  /** Creates or replaces the policy. */
  put(record: RolePolicyRecord): Promise<void>;
  /** Whether there was one to delete. */
  delete(accountId: string, roleName: string, policyName: string): Promise<boolean>;
  /** The account's role policies (one role's when named), by role then policy name. */
  list(accountId: string, roleName?: string): Promise<RolePolicyRecord[]>;
}
