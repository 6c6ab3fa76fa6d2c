/**
 * `Code.ImageUri`, named the way skopeo names images:
 *
 * - `oci:/path/to/layout[:tag|@sha256:<hex>]`: an OCI image layout directory on the server's machine
 * - `oci-archive:/path/image.tar[:tag|@sha256:<hex>]`: the same, as a tar archive
 * - `docker-archive:/path/image.tar[:repo:tag|:@<n>]`: what `docker save` writes
 * - `[docker://]host[:port]/repository[:tag][@sha256:<hex>]`: an image in an OCI registry
 */
export type ImageReference = LocalReference | RegistryReference;

export interface LocalReference {
  readonly kind: 'oci' | 'oci-archive' | 'docker-archive';
  /** Absolute path on the server's machine. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
  /** docker-archive only: the position of the image in the archive's manifest.json. */
  readonly index?: number;
}

export interface RegistryReference {
  readonly kind: 'registry';
  /** `host` or `host:port`, as written. */
  readonly host: string;
  readonly repository: string;
  /** The tag, `latest` when neither a tag nor a digest is given. */
  readonly tag?: string;
  readonly digest?: string;
}

/** Why an ImageUri cannot be used; the caller turns it into the API's error. */
export class ImageUriError extends Error {}

/** The longest ImageUri taken: far beyond any real one, short enough to echo in a message. */
export const MAX_IMAGE_URI = 2048;

export const DIGEST = /^sha256:[a-f0-9]{64}$/;
// From the OCI distribution spec: repository name components and tags.
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;

export function parseImageUri(uri: string): ImageReference {
  if (uri.length === 0) throw new ImageUriError('the ImageUri is empty');
  if (uri.length > MAX_IMAGE_URI) throw new ImageUriError(`the ImageUri is longer than ${MAX_IMAGE_URI} characters`);
  if (/[\s\0]/.test(uri)) throw new ImageUriError('the ImageUri contains white space or a NUL character');
  for (const kind of ['oci', 'oci-archive', 'docker-archive'] as const) {
    if (uri.startsWith(`${kind}:`)) return parseLocal(kind, uri.slice(kind.length + 1));
  }
  return parseRegistry(uri.startsWith('docker://') ? uri.slice('docker://'.length) : uri);
}

/** `path[:reference]`, the path ending at its first ':' as in skopeo; `@sha256:` names a manifest by digest. */
function parseLocal(kind: LocalReference['kind'], rest: string): LocalReference {
  let path = rest;
  let reference: string | undefined;
  const at = /@(sha256:[a-f0-9]{64})$/.exec(rest);
  if (at && kind !== 'docker-archive') {
    path = rest.slice(0, at.index);
  } else {
    const colon = rest.indexOf(':');
    if (colon !== -1) {
      path = rest.slice(0, colon);
      reference = rest.slice(colon + 1);
    }
  }
  if (!path.startsWith('/')) throw new ImageUriError(`${kind}: needs an absolute path on the server's machine, got '${path}'`);
  if (at && kind !== 'docker-archive') return { kind, path, digest: at[1]! };
  if (reference === undefined || reference === '') return { kind, path };
  if (kind === 'docker-archive') {
    // skopeo: `docker-archive:path:repo:tag`, or `:@n` for the n-th image of the archive.
    const index = /^@(\d{1,6})$/.exec(reference);
    if (index) return { kind, path, index: Number(index[1]) };
    return { kind, path, tag: reference };
  }
  if (!TAG.test(reference)) throw new ImageUriError(`'${reference}' is not a valid tag`);
  return { kind, path, tag: reference };
}

function parseRegistry(name: string): RegistryReference {
  let rest = name;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageUriError(`'${digest}' is not a sha256 digest (sha256:<64 hex digits>)`);
  }
  const slash = rest.indexOf('/');
  const host = slash === -1 ? '' : rest.slice(0, slash);
  // As docker decides: a first component with a '.' or a ':' (or localhost) is a registry host.
  if (slash === -1 || !(host.includes('.') || host.includes(':') || host === 'localhost') || !HOST.test(host)) {
    throw new ImageUriError(
      'the ImageUri must name a registry host (host[:port]/repository[:tag]) or use oci:, oci-archive: or docker-archive: with a path on the server',
    );
  }
  let repository = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon !== -1) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageUriError(`'${tag}' is not a valid tag`);
  }
  if (!REPOSITORY.test(repository)) throw new ImageUriError(`'${repository}' is not a valid repository name`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { kind: 'registry', host, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** The image without its tag or digest: what ResolvedImageUri puts before `@sha256:`. */
export function imageName(ref: ImageReference): string {
  return ref.kind === 'registry' ? `${ref.host}/${ref.repository}` : `${ref.kind}:${ref.path}`;
}

/** Loopback registries are spoken to over plain HTTP, as Docker treats 127.0.0.0/8 as insecure by default. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return bare === 'localhost' || bare === '::1' || /^127(?:\.\d{1,3}){3}$/.test(bare);
}
