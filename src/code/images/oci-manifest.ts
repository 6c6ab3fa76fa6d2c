/**
 * The JSON documents of an image (OCI image spec v1 and Docker's schema 2, which it grew out of):
 * index / manifest list, manifest, config. Parsed defensively: they come from the user.
 */
import { createHash } from 'node:crypto';
import { DIGEST } from './image-reference.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList];
const MANIFEST_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
const CONFIG_TYPES: readonly string[] = [MEDIA_TYPES.ociConfig, MEDIA_TYPES.dockerConfig];
/** Layers are sniffed for gzip / zstd by their first bytes; the media type only has to say "a tar". */
const LAYER_TYPE = /^application\/vnd\.(?:oci\.image\.layer(?:\.nondistributable)?\.v1\.tar|docker\.image\.rootfs\.diff\.tar)(?:\+gzip|\+zstd|\.gzip|\.zstd)?$/;

/** What registries are asked for, best first. */
export const ACCEPT_MANIFESTS = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest].join(', ');

/** Manifests, indexes and configs are small; containerd refuses them past 4 MiB too. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly os?: string; readonly architecture?: string; readonly variant?: string };
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface Manifest {
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

export type TopDocument = { readonly kind: 'index'; readonly manifests: readonly Descriptor[] } | { readonly kind: 'manifest'; readonly manifest: Manifest };

/** How an image asks to be run (its config's `config` object), and what it was built for. */
export interface ImageRunConfig {
  readonly entryPoint?: readonly string[];
  readonly command?: readonly string[];
  readonly workingDirectory?: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly os?: string;
  readonly architecture?: string;
  /** sha256 of each layer's uncompressed tar, in order. */
  readonly diffIds?: readonly string[];
}

/** A malformed or unsupported image; the message says what, for the API's error. */
export class ImageFormatError extends Error {}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Throws unless `bytes` are what `descriptor` promises. */
export function verifyBlob(descriptor: Descriptor, bytes: Buffer): void {
  if (bytes.length !== descriptor.size) {
    throw new ImageFormatError(`blob ${descriptor.digest} is ${bytes.length} bytes, its descriptor says ${descriptor.size}`);
  }
  const actual = sha256Digest(bytes);
  if (actual !== descriptor.digest) throw new ImageFormatError(`blob ${descriptor.digest} has the digest ${actual}`);
}

/** An index or a manifest; `hint` is the media type the transport gave (descriptor, Content-Type). */
export function parseTopDocument(bytes: Buffer, hint?: string): TopDocument {
  const doc = parseJson(bytes, 'manifest');
  const mediaType = typeof doc['mediaType'] === 'string' ? doc['mediaType'] : hint?.split(';')[0]?.trim();
  const isIndex = mediaType !== undefined && INDEX_TYPES.includes(mediaType);
  const isManifest = mediaType !== undefined && MANIFEST_TYPES.includes(mediaType);
  // OCI lets mediaType be left out of the document itself; then its shape tells.
  if (isIndex || (!isManifest && Array.isArray(doc['manifests']))) {
    return { kind: 'index', manifests: list(doc['manifests'], 'manifests').map((d, i) => descriptor(d, `manifests[${i}]`)) };
  }
  if (isManifest || (mediaType === undefined && doc['config'] !== undefined)) {
    if (doc['schemaVersion'] !== 2) throw new ImageFormatError('only schema version 2 manifests are supported (not Docker schema 1)');
    return { kind: 'manifest', manifest: parseManifest(doc) };
  }
  throw new ImageFormatError(`unsupported manifest media type '${mediaType ?? 'none'}'`);
}

function parseManifest(doc: Record<string, unknown>): Manifest {
  const config = descriptor(doc['config'], 'config');
  if (!CONFIG_TYPES.includes(config.mediaType)) {
    throw new ImageFormatError(`the manifest's config has media type '${config.mediaType}', not a container image config`);
  }
  const layers = list(doc['layers'], 'layers').map((d, i) => descriptor(d, `layers[${i}]`));
  for (const layer of layers) {
    if (!LAYER_TYPE.test(layer.mediaType)) throw new ImageFormatError(`layer ${layer.digest} has the unsupported media type '${layer.mediaType}'`);
  }
  return { config, layers };
}

/**
 * The manifest for `architecture` (OCI names: amd64, arm64) on linux. Lambda runs one
 * architecture per function; the image's other platforms are ignored.
 */
export function pickPlatform(manifests: readonly Descriptor[], architecture: string): Descriptor {
  const candidates = manifests.filter(
    (d) => d.platform?.os === 'linux' && d.platform.architecture === architecture && MANIFEST_TYPES.includes(d.mediaType),
  );
  // arm64 images are v8 (or say nothing about the variant).
  const chosen = candidates.find((d) => d.platform?.variant === undefined || d.platform.variant === 'v8') ?? candidates[0];
  if (!chosen) {
    const offered = manifests.map((d) => `${d.platform?.os ?? '?'}/${d.platform?.architecture ?? '?'}`).join(', ');
    throw new ImageFormatError(`the image has no linux/${architecture} manifest (it has: ${offered || 'none'})`);
  }
  return chosen;
}

export function parseConfig(bytes: Buffer): ImageRunConfig {
  const doc = parseJson(bytes, 'image config');
  const run = doc['config'] ?? doc['container_config'];
  const settings = isRecord(run) ? run : {};
  const environment: Record<string, string> = {};
  for (const pair of optionalStrings(settings['Env'], 'Env') ?? []) {
    const eq = pair.indexOf('=');
    if (eq > 0) environment[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const entryPoint = optionalStrings(settings['Entrypoint'], 'Entrypoint');
  const command = optionalStrings(settings['Cmd'], 'Cmd');
  const workingDirectory = typeof settings['WorkingDir'] === 'string' && settings['WorkingDir'] !== '' ? settings['WorkingDir'] : undefined;
  const rootfs = isRecord(doc['rootfs']) ? doc['rootfs'] : undefined;
  const diffIds = rootfs ? optionalStrings(rootfs['diff_ids'], 'rootfs.diff_ids') : undefined;
  return {
    ...(entryPoint ? { entryPoint } : {}),
    ...(command ? { command } : {}),
    ...(workingDirectory ? { workingDirectory } : {}),
    environment,
    ...(typeof doc['os'] === 'string' ? { os: doc['os'] } : {}),
    ...(typeof doc['architecture'] === 'string' ? { architecture: doc['architecture'] } : {}),
    ...(diffIds ? { diffIds } : {}),
  };
}

export function descriptor(value: unknown, where: string): Descriptor {
  if (!isRecord(value)) throw new ImageFormatError(`${where} is not a descriptor`);
  const { mediaType, digest, size, platform, annotations } = value;
  if (typeof mediaType !== 'string') throw new ImageFormatError(`${where} has no mediaType`);
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    throw new ImageFormatError(`${where} has the digest '${String(digest)}': only sha256 digests are supported`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new ImageFormatError(`${where} has an invalid size`);
  const result: { -readonly [K in keyof Descriptor]: Descriptor[K] } = { mediaType, digest, size };
  if (isRecord(platform)) {
    result.platform = {
      ...(typeof platform['os'] === 'string' ? { os: platform['os'] } : {}),
      ...(typeof platform['architecture'] === 'string' ? { architecture: platform['architecture'] } : {}),
      ...(typeof platform['variant'] === 'string' ? { variant: platform['variant'] } : {}),
    };
  }
  if (isRecord(annotations)) {
    result.annotations = Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  return result;
}

export function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  if (bytes.length > MAX_JSON_BYTES) throw new ImageFormatError(`the ${what} is larger than ${MAX_JSON_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ImageFormatError(`the ${what} is not valid JSON`);
  }
  if (!isRecord(doc)) throw new ImageFormatError(`the ${what} is not a JSON object`);
  return doc;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new ImageFormatError(`${where} is not a list`);
  return value;
}

function optionalStrings(value: unknown, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new ImageFormatError(`the image config's ${where} is not a list of strings`);
  }
  return value as string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
