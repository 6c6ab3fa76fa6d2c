export { anonymousCaller } from './caller.js';
export type { Caller, CredentialSource, PolicyDocument, PolicyStatement, ResolvedKey, ResourcePolicies, ResourceRequest } from './caller.js';
export { parsePolicyDocument } from './policy-document.js';
export { Roles, parseRoleArn } from './roles.js';
export type { RoleRef, RoleSummary } from './roles.js';
export { SessionIssuer } from './sessions.js';
export type { SessionCredentials } from './sessions.js';
