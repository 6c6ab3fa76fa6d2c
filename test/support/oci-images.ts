/**
 * Builds small OCI images for tests, with nothing but node: layer tars, configs and manifests,
 * written as an OCI layout, an oci-archive, a docker-archive, or pushed to a registry with the
 * OCI distribution API (monolithic blob uploads).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';

export interface TarEntry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link';
  readonly content?: string | Buffer;
  readonly mode?: number;
  readonly linkname?: string;
}

export interface Blob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly bytes: Buffer;
}

export interface TestImage {
  readonly manifest: Blob;
  readonly config: Blob;
  readonly layers: readonly Blob[];
  /** Each layer uncompressed (what docker-archive holds). */
  readonly layerTars: readonly Buffer[];
}

export interface ImageSettings {
  readonly Entrypoint?: string[];
  readonly Cmd?: string[];
  readonly Env?: string[];
  readonly WorkingDir?: string;
}

export const OCI = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The host's architecture as OCI names it. */
export const HOST_PLATFORM = process.arch === 'arm64' ? 'arm64' : 'amd64';
/** The host's architecture as Lambda names it. */
export const HOST_ARCHITECTURE = process.arch === 'arm64' ? 'arm64' : 'x86_64';

export function blob(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, bytes };
}

export async function tarOf(entries: readonly TarEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const type = entry.type ?? (entry.name.endsWith('/') ? 'directory' : 'file');
    const header = {
      name: entry.name,
      type,
      mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644),
      mtime: new Date(0),
      ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      pack.entry(header, type === 'file' ? (entry.content ?? '') : Buffer.alloc(0), done);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** An image of these layers (each gzipped unless `gzip: false`) for the host's platform. */
export async function buildImage(
  layers: readonly (readonly TarEntry[])[],
  settings: ImageSettings = {},
  options: { gzip?: boolean; architecture?: string } = {},
): Promise<TestImage> {
  const layerTars = await Promise.all(layers.map((entries) => tarOf(entries)));
  return imageFromTars(layerTars, settings, options);
}

export function imageFromTars(layerTars: readonly Buffer[], settings: ImageSettings = {}, options: { gzip?: boolean; architecture?: string } = {}): TestImage {
  const gzip = options.gzip ?? true;
  const layerBlobs = layerTars.map((tar) => (gzip ? blob(OCI.layerGzip, gzipSync(tar, { level: 1 })) : blob(OCI.layer, tar)));
  const config = blob(
    OCI.config,
    Buffer.from(
      JSON.stringify({
        architecture: options.architecture ?? HOST_PLATFORM,
        os: 'linux',
        config: settings,
        rootfs: { type: 'layers', diff_ids: layerTars.map((tar) => blob(OCI.layer, tar).digest) },
      }),
    ),
  );
  const manifest = blob(
    OCI.manifest,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI.manifest, config: describe(config), layers: layerBlobs.map((b) => describe(b)) })),
  );
  return { manifest, config, layers: layerBlobs, layerTars };
}

export function describe(b: Blob, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size, ...extra };
}

/** An index over images by platform (`{ amd64: image, arm64: image }`). */
export function indexOf(images: Readonly<Record<string, TestImage>>): Blob {
  const manifests = Object.entries(images).map(([architecture, image]) => describe(image.manifest, { platform: { os: 'linux', architecture } }));
  return blob(OCI.index, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI.index, manifests })));
}

/** An OCI image layout at `dir` holding `image` (or an index's images) under `tag`. */
export function writeOciLayout(dir: string, image: TestImage, tag = 'latest', extra: readonly TestImage[] = [], index?: Blob): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const b of [image, ...extra].flatMap((i) => [i.manifest, i.config, ...i.layers]).concat(index ? [index] : [])) {
    writeFileSync(join(dir, 'blobs', 'sha256', b.digest.slice('sha256:'.length)), b.bytes);
  }
  const top = index ?? image.manifest;
  const manifests = [describe(top, { annotations: { 'org.opencontainers.image.ref.name': tag } })];
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI.index, manifests }));
}

/** The layout as a tar: an oci-archive. */
export function writeOciArchive(path: string, layoutDir: string): void {
  execFileSync('tar', ['-cf', path, '-C', layoutDir, '.']);
}

/** What `docker save` writes (the classic layout: `<id>/layer.tar`, `<id>.json`, `manifest.json`). */
export async function writeDockerArchive(path: string, image: TestImage, repoTag: string): Promise<void> {
  const configName = `${image.config.digest.slice('sha256:'.length)}.json`;
  const layerNames = image.layerTars.map((_, i) => `layer${i}/layer.tar`);
  const entries: TarEntry[] = [
    { name: configName, content: image.config.bytes },
    ...image.layerTars.flatMap((tar, i): TarEntry[] => [{ name: `layer${i}/`, type: 'directory' }, { name: layerNames[i]!, content: tar }]),
    { name: 'manifest.json', content: JSON.stringify([{ Config: configName, RepoTags: [repoTag], Layers: layerNames }]) },
  ];
  writeFileSync(path, await tarOf(entries));
}

/** Pushes the image (and an optional index naming it) with the distribution API; returns the tag's digest. */
export async function pushImage(registry: string, repository: string, tag: string, images: readonly TestImage[], index?: Blob): Promise<string> {
  for (const b of images.flatMap((image) => [image.config, ...image.layers])) await pushBlob(registry, repository, b);
  for (const image of images) await putManifest(registry, repository, index ? image.manifest.digest : tag, image.manifest);
  if (index) await putManifest(registry, repository, tag, index);
  return (index ?? images[0]!.manifest).digest;
}

async function pushBlob(registry: string, repository: string, b: Blob): Promise<void> {
  const start = await fetch(`http://${registry}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload start: HTTP ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location')!, `http://${registry}`);
  location.searchParams.set('digest', b.digest);
  const put = await fetch(location, { method: 'PUT', body: new Uint8Array(b.bytes), headers: { 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${await put.text()}`);
}

async function putManifest(registry: string, repository: string, reference: string, b: Blob): Promise<void> {
  const res = await fetch(`http://${registry}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    body: new Uint8Array(b.bytes),
    headers: { 'Content-Type': b.mediaType },
  });
  if (res.status !== 201) throw new Error(`manifest put: HTTP ${res.status} ${await res.text()}`);
}

/** The host files a program needs to run on its own in an image: itself and its shared libraries (ldd). */
export function hostProgramEntries(program: string): TarEntry[] {
  const files = new Set<string>([program]);
  for (const line of execFileSync('ldd', [program], { encoding: 'utf8' }).split('\n')) {
    const path = /(\/\S+)/.exec(line.includes('=>') ? line.split('=>')[1]! : line)?.[1];
    if (path) files.add(path);
  }
  const dirs = new Set<string>();
  for (const file of files) {
    const parts = file.split('/').slice(1, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [
    ...[...dirs].sort().map((dir): TarEntry => ({ name: `${dir}/`, type: 'directory' })),
    // Read through links: the image gets the file itself at the path the program asks for.
    ...[...files].map((file): TarEntry => ({ name: file.slice(1), content: readFileSync(file), mode: 0o755 })),
  ];
}

/** A bash Runtime API client: the entry point of the test images (bash from the host, nothing else). */
export const BOOTSTRAP = `#!/bin/bash
export LC_ALL=C
api=$AWS_LAMBDA_RUNTIME_API
host=\${api%:*}
port=\${api##*:}

# call METHOD PATH [BODY [HEADER]]: sets status, request_id and reply
call() {
  exec 3<>"/dev/tcp/$host/$port" || exit 90
  local extra=""
  [ -n "$4" ] && extra="$4"$'\\r\\n'
  printf '%s %s HTTP/1.1\\r\\nHost: %s\\r\\nContent-Type: application/json\\r\\n%sContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n%s' \\
    "$1" "$2" "$api" "$extra" "\${#3}" "$3" >&3
  local line length=0
  IFS= read -r line <&3
  status=\${line#* }; status=\${status%% *}
  while IFS= read -r line <&3; do
    line=\${line%$'\\r'}
    [ -z "$line" ] && break
    case "\${line,,}" in
      content-length:*) length=\${line#*:}; length=\${length// /} ;;
      lambda-runtime-aws-request-id:*) request_id=\${line#*:}; request_id=\${request_id// /} ;;
    esac
  done
  reply=
  if [ "$length" -gt 0 ]; then IFS= read -r -N "$length" reply <&3; fi
  exec 3<&-
}

echo "image bootstrap: handler=$_HANDLER args=$*"
while true; do
  call GET /2018-06-01/runtime/invocation/next
  event=$reply
  case "$event" in
    *'"spin"'*) while :; do :; done ;;
    *'"exit"'*) echo "exiting as asked"; exit 7 ;;
    *'"fail"'*)
      call POST "/2018-06-01/runtime/invocation/$request_id/error" '{"errorType":"ImageFailure","errorMessage":"failed as asked"}' \\
        'Lambda-Runtime-Function-Error-Type: ImageFailure'
      continue ;;
  esac
  body="{\\"handler\\":\\"$_HANDLER\\",\\"args\\":\\"$*\\",\\"cwd\\":\\"$PWD\\",\\"greeting\\":\\"$GREETING\\",\\"fnVar\\":\\"$FN_VAR\\",\\"region\\":\\"$AWS_REGION\\",\\"taskRoot\\":\\"$LAMBDA_TASK_ROOT\\",\\"event\\":$event}"
  call POST "/2018-06-01/runtime/invocation/$request_id/response" "$body"
done
`;

export const BASH_LAYER: TarEntry[] = hostProgramEntries('/bin/bash');
export const APP_LAYER: TarEntry[] = [
  { name: 'var/', type: 'directory' },
  { name: 'var/task/', type: 'directory' },
  { name: 'var/task/bootstrap', content: BOOTSTRAP, mode: 0o755 },
  { name: 'srv/', type: 'directory', mode: 0o755 },
];
export const SETTINGS = { Entrypoint: ['/var/task/bootstrap'], Cmd: ['echo.handler'], Env: ['GREETING=hello from the image', 'PATH=/bin'], WorkingDir: '/var/task' };
