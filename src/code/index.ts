export { CodeStore, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES } from './code-store.js';
export type { StoredCode } from './code-store.js';
export { extractZip } from './zip-intake.js';
export { zipDirectory, zipFiles } from './zip-build.js';
export type { UnpackedCode } from './code-store.js';
export { LayerView } from './layer-view.js';
export { ImageStore } from './images/image-store.js';
export type { ImageStoreOptions, PulledImage } from './images/image-store.js';
export { lookupInRoot } from './images/root-lookup.js';
