export { anonymousCaller } from './caller.js';
export type { Caller, CredentialSource, PolicyDocument, PolicyStatement, ResolvedKey } from './caller.js';
