export { RuntimeApiEndpoint } from './runtime-api-endpoint.js';
export type { EndpointEvents, InitFailure } from './runtime-api-endpoint.js';
export { errorPayload, MAX_RESPONSE_BYTES, MAX_STREAMED_BYTES } from './invocation.js';
export type { Invocation, RuntimeOutcome, StreamSink } from './invocation.js';
export { ExtensionsApi, MAX_EXTENSIONS } from './extensions-api.js';
export type { ExtensionFailure, ExtensionsIdentity } from './extensions-api.js';
