export { anonymousCaller } from './caller.js';
export type { Caller, CredentialSource, PolicyDocument, PolicyStatement, ResolvedKey, ResourcePolicies, ResourceRequest } from './caller.js';
