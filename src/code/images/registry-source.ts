/**
 * Images in an OCI registry, pulled anonymously with the OCI distribution API
 * (`GET /v2/<name>/manifests/<reference>`, `GET /v2/<name>/blobs/<digest>`). A registry that asks
 * for a bearer token gets an anonymous one from the realm it names, as `docker pull` does.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { isLoopbackHost, type RegistryReference } from './image-reference.js';
import { ImageSourceError, type ImageSource } from './image-source.js';
import { ACCEPT_MANIFESTS, ImageFormatError, MAX_JSON_BYTES, sha256Digest, verifyBlob, type Descriptor } from './oci-manifest.js';

export interface RegistryOptions {
  /** How long a request may wait for an answer, and a download may go without a byte. */
  readonly timeoutMs: number;
  /** Registries (host or host:port) spoken to over plain HTTP besides loopback ones. */
  readonly insecureRegistries: readonly string[];
}

export class RegistrySource implements ImageSource {
  readonly #ref: RegistryReference;
  readonly #options: RegistryOptions;
  readonly #base: string;
  #token: string | undefined;

  constructor(ref: RegistryReference, options: RegistryOptions) {
    this.#ref = ref;
    this.#options = options;
    const plain = isLoopbackHost(ref.host) || options.insecureRegistries.includes(ref.host);
    this.#base = `${plain ? 'http' : 'https'}://${ref.host}/v2/${ref.repository}`;
  }

  async top(): Promise<{ bytes: Buffer; mediaType?: string }> {
    const reference = this.#ref.digest ?? this.#ref.tag ?? 'latest';
    const res = await this.#get(`/manifests/${reference}`, ACCEPT_MANIFESTS, 'manifest');
    const bytes = await readSmallBody(res, `the manifest of ${this.#label()}`, this.#options.timeoutMs);
    if (this.#ref.digest !== undefined && sha256Digest(bytes) !== this.#ref.digest) {
      throw new ImageFormatError(`the registry answered ${this.#label()} with a manifest of another digest (${sha256Digest(bytes)})`);
    }
    const mediaType = res.headers.get('content-type') ?? undefined;
    return { bytes, ...(mediaType ? { mediaType } : {}) };
  }

  async readSmall(descriptor: Descriptor): Promise<Buffer> {
    if (descriptor.size > MAX_JSON_BYTES) throw new ImageFormatError(`blob ${descriptor.digest} is larger than ${MAX_JSON_BYTES} bytes`);
    // A manifest (a platform's, under an index) comes from manifests/, a config from blobs/.
    const isManifest = /manifest|index/.test(descriptor.mediaType);
    const res = await this.#get(`/${isManifest ? 'manifests' : 'blobs'}/${descriptor.digest}`, isManifest ? ACCEPT_MANIFESTS : '*/*', 'blob');
    const bytes = await readSmallBody(res, `blob ${descriptor.digest}`, this.#options.timeoutMs);
    verifyBlob(descriptor, bytes);
    return bytes;
  }

  async openLayer(descriptor: Descriptor): Promise<Readable> {
    const res = await this.#get(`/blobs/${descriptor.digest}`, '*/*', 'blob');
    if (!res.body) throw new ImageSourceError(`the registry sent no data for blob ${descriptor.digest}`);
    return stallGuard(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), this.#options.timeoutMs, `blob ${descriptor.digest}`);
  }

  async close(): Promise<void> {}

  #label(): string {
    return `${this.#ref.host}/${this.#ref.repository}${this.#ref.digest ? `@${this.#ref.digest}` : `:${this.#ref.tag ?? 'latest'}`}`;
  }

  async #get(path: string, accept: string, what: 'manifest' | 'blob'): Promise<Response> {
    let res = await this.#fetch(path, accept);
    if (res.status === 401 && this.#token === undefined) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      await res.body?.cancel();
      this.#token = await this.#anonymousToken(challenge);
      res = await this.#fetch(path, accept);
    }
    if (res.ok) return res;
    const detail = await errorDetail(res);
    if (res.status === 404) {
      throw new ImageSourceError(`${what === 'manifest' ? this.#label() : `blob at ${this.#base}${path}`} was not found in the registry${detail}`, true);
    }
    if (res.status === 401 || res.status === 403) {
      throw new ImageSourceError(`the registry refused anonymous access to ${this.#label()} (HTTP ${res.status})${detail}; Kindling pulls without credentials`);
    }
    throw new ImageSourceError(`the registry answered HTTP ${res.status} for ${this.#base}${path}${detail}`);
  }

  async #fetch(path: string, accept: string): Promise<Response> {
    const url = `${this.#base}${path}`;
    return timedFetch(url, { headers: { Accept: accept, ...(this.#token ? { Authorization: `Bearer ${this.#token}` } : {}) } }, this.#options.timeoutMs);
  }

  /** `WWW-Authenticate: Bearer realm="...",service="...",scope="..."`: an anonymous token for the pull. */
  async #anonymousToken(challenge: string): Promise<string> {
    const fields = new Map([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    const realm = fields.get('realm');
    if (!/^bearer\s/i.test(challenge) || !realm) {
      throw new ImageSourceError(`the registry wants credentials for ${this.#label()}; Kindling pulls without credentials`);
    }
    const url = new URL(realm);
    const service = fields.get('service');
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', fields.get('scope') ?? `repository:${this.#ref.repository}:pull`);
    const res = await timedFetch(url.href, {}, this.#options.timeoutMs);
    if (!res.ok) throw new ImageSourceError(`the registry's token service refused an anonymous token (HTTP ${res.status})`);
    const body = (await readSmallBody(res, 'the token', this.#options.timeoutMs).then((b) => JSON.parse(b.toString('utf8')) as unknown).catch(() => undefined)) as
      | { token?: unknown; access_token?: unknown }
      | undefined;
    const token = body?.token ?? body?.access_token;
    if (typeof token !== 'string') throw new ImageSourceError('the registry\'s token service answered without a token');
    return token;
  }
}

/** fetch with a limit on the wait for the answer's headers; the body is watched by stallGuard. */
async function timedFetch(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } catch (err) {
    if (timedOut) throw new ImageSourceError(`the registry at ${url} did not answer within ${timeoutMs} ms`, false, { cause: err });
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ImageSourceError(`could not reach the registry at ${url} (${cause?.code ?? cause?.message ?? (err as Error).message})`, false, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

async function readSmallBody(res: Response, what: string, timeoutMs: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_JSON_BYTES) throw new ImageFormatError(`${what} is larger than ${MAX_JSON_BYTES} bytes`);
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const body = stallGuard(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), timeoutMs, what);
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) {
      body.destroy();
      throw new ImageFormatError(`${what} is larger than ${MAX_JSON_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A download that goes `timeoutMs` without a byte fails, rather than holding CreateFunction
 * forever. Bytes waiting in the stream's buffer mean the reader is the slow one: no stall then.
 */
function stallGuard(stream: Readable, timeoutMs: number, what: string): Readable {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (stream.readableLength > 0) return arm();
      stream.destroy(new ImageSourceError(`the registry sent nothing for ${timeoutMs} ms while sending ${what}`));
    }, timeoutMs);
  };
  arm();
  stream.on('data', arm);
  stream.once('close', () => clearTimeout(timer));
  return stream;
}

/** The registry's error body (`{"errors":[{"code","message"}]}`), shortened for a message. */
async function errorDetail(res: Response): Promise<string> {
  try {
    const text = (await res.text()).slice(0, 1024);
    const errors = (JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] }).errors;
    const first = errors?.[0];
    if (first) return `: ${String(first.code ?? '')} ${String(first.message ?? '')}`.trimEnd();
  } catch {
    // no details
  }
  return '';
}
