import { CreateFunctionCommand, InvokeCommand, PublishLayerVersionCommand, type LambdaClient, type Runtime } from '@aws-sdk/client-lambda';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipFiles } from '../src/code/index.js';
import { json, ROLE, startTestServer, type TestServer } from './support/kindling.js';

/**
 * The shell runtime of AWS's custom runtime tutorial: source the handler's file, then loop on curl
 * (GET next with a headers file, read the request id, POST the response or the error).
 */
const SHELL_BOOTSTRAP = `#!/bin/sh
set -eu
. "$LAMBDA_TASK_ROOT/$(echo "$_HANDLER" | cut -d. -f1).sh"
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
COUNT=0
while true; do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  COUNT=$((COUNT + 1))
  export COUNT REQUEST_ID
  if RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA"); then
    curl -sS -o /dev/null "$API/invocation/$REQUEST_ID/response" -d "$RESPONSE"
  else
    curl -sS -o /dev/null "$API/invocation/$REQUEST_ID/error" -H "Lambda-Runtime-Function-Error-Type: ShellError" -d "$RESPONSE"
  fi
done
`;

const SHELL_HANDLER = `handler () {
  EVENT_DATA=$1
  echo "shell handler got $EVENT_DATA" 1>&2
  case "$EVENT_DATA" in
    *'"fail"'*) echo '{"errorType":"ShellError","errorMessage":"asked to fail"}'; return 1 ;;
  esac
  echo "{\\"runtime\\":\\"sh\\",\\"pid\\":$$,\\"count\\":$COUNT,\\"requestId\\":\\"$REQUEST_ID\\",\\"handler\\":\\"$_HANDLER\\",\\"event\\":$EVENT_DATA}"
}
`;

/** Reports an init failure the way a runtime must (POST /init/error), then exits. */
const INIT_ERROR_BOOTSTRAP = `#!/bin/sh
curl -sS -o /dev/null "http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error" \\
  -H "Lambda-Runtime-Function-Error-Type: Runtime.ConfigMissing" \\
  -d '{"errorType":"Runtime.ConfigMissing","errorMessage":"no configuration found"}'
exit 1
`;

/** A runtime in C: HTTP/1.1 on one keep-alive connection to the Runtime API, no library. */
const C_BOOTSTRAP = String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int fd;
static char buf[65536];
static size_t have;

static void die(const char *what) { perror(what); exit(1); }

static void write_all(const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) die("write");
    p += w;
    n -= (size_t)w;
  }
}

static void fill(void) {
  if (have == sizeof buf) die("response too large");
  ssize_t r = read(fd, buf + have, sizeof buf - have);
  if (r <= 0) die("read");
  have += (size_t)r;
}

/* One HTTP/1.1 response: status, request id header (if asked) and a malloc'd, NUL-ended body. */
static char *read_response(int *status, char *request_id) {
  char *end;
  while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) fill();
  size_t head = (size_t)(end - buf) + 4;
  *end = '\0';
  if (sscanf(buf, "HTTP/1.1 %d", status) != 1) die("status line");
  size_t length = 0;
  for (char *line = strstr(buf, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
    line += 2;
    if (strncasecmp(line, "Content-Length:", 15) == 0) length = strtoul(line + 15, NULL, 10);
    if (request_id && strncasecmp(line, "Lambda-Runtime-Aws-Request-Id:", 30) == 0) sscanf(line + 30, " %127[^\r]", request_id);
  }
  while (have < head + length) fill();
  char *body = malloc(length + 1);
  memcpy(body, buf + head, length);
  body[length] = '\0';
  memmove(buf, buf + head + length, have - head - length);
  have -= head + length;
  return body;
}

int main(void) {
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  char host[64];
  int port;
  if (api == NULL || sscanf(api, "%63[^:]:%d", host, &port) != 2) die("AWS_LAMBDA_RUNTIME_API");
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("address");
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
  for (int count = 1;; count++) {
    char head[512];
    int n = snprintf(head, sizeof head, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);
    write_all(head, (size_t)n);
    int status;
    char id[128] = "";
    char *event = read_response(&status, id);
    if (status != 200) die("next");
    printf("compiled runtime, handler %s, request %s\n", getenv("_HANDLER"), id);
    fflush(stdout);
    int fail = strstr(event, "\"fail\"") != NULL;
    char *out = malloc(strlen(event) + 256);
    int m = fail ? sprintf(out, "{\"errorType\":\"CompiledError\",\"errorMessage\":\"asked to fail\"}")
                 : sprintf(out, "{\"runtime\":\"c\",\"count\":%d,\"pid\":%d,\"requestId\":\"%s\",\"event\":%s}", count, (int)getpid(), id, event);
    n = snprintf(head, sizeof head,
                 "POST /2018-06-01/runtime/invocation/%s/%s HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
                 id, fail ? "error" : "response", api, fail ? "Lambda-Runtime-Function-Error-Type: CompiledError\r\n" : "", m);
    write_all(head, (size_t)n);
    write_all(out, (size_t)m);
    char *ack = read_response(&status, NULL);
    if (status != 202) die("post");
    free(ack);
    free(out);
    free(event);
  }
}
`;

const EXECUTABLE = 0o755;

interface ErrorBody {
  errorType?: string;
  errorMessage?: string;
}

async function invoke(lambda: LambdaClient, name: string, payload: unknown = {}, tail = false) {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)), ...(tail ? { LogType: 'Tail' as const } : {}) }),
  );
  return { ...out, body: json(out.Payload), log: out.LogResult ? Buffer.from(out.LogResult, 'base64').toString('utf8') : '' };
}

/** Compiles the C runtime; the reason to skip instead when the machine has no gcc. */
function compileBootstrap(dir: string): Buffer | string {
  const probe = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `gcc is not available (${probe.error?.message ?? probe.stderr})`;
  writeFileSync(join(dir, 'bootstrap.c'), C_BOOTSTRAP);
  const built = spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-o', join(dir, 'bootstrap'), join(dir, 'bootstrap.c')], { encoding: 'utf8' });
  assert.equal(built.status, 0, `gcc failed: ${built.stderr}`);
  return readFileSync(join(dir, 'bootstrap'));
}

describe('custom runtimes (provided.al2023, provided.al2) through the AWS SDK', () => {
  let server: TestServer;
  let buildDir: string;
  let compiled: Buffer | string;

  const create = async (name: string, files: Parameters<typeof zipFiles>[0], extra: { runtime?: Runtime; layers?: string[] } = {}) =>
    server.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: extra.runtime ?? 'provided.al2023',
        Handler: 'function.handler',
        Role: ROLE,
        Timeout: 10,
        Code: { ZipFile: await zipFiles(files) },
        ...(extra.layers ? { Layers: extra.layers } : {}),
      }),
    );

  before(async () => {
    server = await startTestServer({ idleTimeoutMs: 60_000 });
    buildDir = mkdtempSync(join(tmpdir(), 'kindling-c-runtime-'));
    compiled = compileBootstrap(buildDir);
    await create('shell', { bootstrap: { content: SHELL_BOOTSTRAP, mode: EXECUTABLE }, 'function.sh': SHELL_HANDLER });
    await create('shell-al2', { bootstrap: { content: SHELL_BOOTSTRAP, mode: EXECUTABLE }, 'function.sh': SHELL_HANDLER }, { runtime: 'provided.al2' });
    await create('init-error', { bootstrap: { content: INIT_ERROR_BOOTSTRAP, mode: EXECUTABLE } });
    await create('not-executable', { bootstrap: { content: SHELL_BOOTSTRAP, mode: 0o644 }, 'function.sh': SHELL_HANDLER });
    await create('no-bootstrap', { 'function.sh': SHELL_HANDLER });
    if (Buffer.isBuffer(compiled)) await create('compiled', { bootstrap: { content: compiled, mode: EXECUTABLE } });
    const layer = await server.lambda.send(
      new PublishLayerVersionCommand({
        LayerName: 'shell-runtime',
        CompatibleRuntimes: ['provided.al2023'],
        Content: { ZipFile: await zipFiles({ bootstrap: { content: SHELL_BOOTSTRAP, mode: EXECUTABLE } }) },
      }),
    );
    await create('layer-runtime', { 'function.sh': SHELL_HANDLER }, { layers: [layer.LayerVersionArn!] });
  });

  after(async () => {
    await server.close();
    rmSync(buildDir, { recursive: true, force: true });
  });

  it('runs a shell bootstrap that speaks to the Runtime API with curl, cold then warm', async () => {
    const cold = await invoke(server.lambda, 'shell', { hello: 'world' }, true);
    assert.equal(cold.StatusCode, 200);
    assert.equal(cold.FunctionError, undefined, JSON.stringify(cold.body));
    const first = cold.body as { runtime: string; pid: number; count: number; requestId: string; handler: string; event: unknown };
    assert.equal(first.runtime, 'sh');
    assert.equal(first.count, 1);
    assert.equal(first.handler, 'function.handler');
    assert.deepEqual(first.event, { hello: 'world' });
    assert.equal(first.requestId, cold.$metadata.requestId);
    // What the handler writes to stderr is the function's log; a cold start reports its Init.
    assert.match(cold.log, /shell handler got \{"hello":"world"\}/);
    assert.match(cold.log, /Init Duration: /);

    const warm = await invoke(server.lambda, 'shell', { again: true }, true);
    const second = warm.body as typeof first;
    assert.equal(second.pid, first.pid, 'the same bootstrap process serves the warm invoke');
    assert.equal(second.count, 2);
    assert.deepEqual(second.event, { again: true });
    assert.doesNotMatch(warm.log, /Init Duration: /);
  });

  it('runs the same bootstrap under provided.al2', async () => {
    const out = await invoke(server.lambda, 'shell-al2', { al2: 1 });
    assert.equal(out.FunctionError, undefined, JSON.stringify(out.body));
    assert.deepEqual((out.body as { event: unknown }).event, { al2: 1 });
  });

  it('answers an error posted to /invocation/{id}/error as FunctionError Unhandled with its errorType', async () => {
    const failed = await invoke(server.lambda, 'shell', { fail: true });
    assert.equal(failed.StatusCode, 200);
    assert.equal(failed.FunctionError, 'Unhandled');
    assert.deepEqual(failed.body, { errorType: 'ShellError', errorMessage: 'asked to fail' });
    // The runtime survives its function's error: the next invoke is warm.
    const next = await invoke(server.lambda, 'shell', { after: 'error' });
    assert.equal(next.FunctionError, undefined);
    assert.ok((next.body as { count: number }).count > 1);
  });

  it('returns an error posted to /init/error to the caller', async () => {
    const out = await invoke(server.lambda, 'init-error', {}, true);
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(out.body, { errorType: 'Runtime.ConfigMissing', errorMessage: 'no configuration found' });
    // Lambda tries Init again for the next request.
    const again = await invoke(server.lambda, 'init-error');
    assert.equal((again.body as ErrorBody).errorType, 'Runtime.ConfigMissing');
  });

  for (const [name, what] of [
    ['not-executable', 'a bootstrap that is not executable'],
    ['no-bootstrap', 'a function without any bootstrap'],
  ] as const) {
    it(`answers ${what} with a runtime error, as a function error`, async () => {
      const out = await invoke(server.lambda, name);
      assert.equal(out.StatusCode, 200);
      assert.equal(out.FunctionError, 'Unhandled');
      assert.match((out.body as ErrorBody).errorType ?? '', /^Runtime\./, JSON.stringify(out.body));
      // Init failed: the next request tries again and fails the same way, it does not hang.
      const again = await invoke(server.lambda, name);
      const withoutId = (body: unknown) => ({ ...(body as ErrorBody), errorMessage: (body as ErrorBody).errorMessage?.replace(/RequestId: \S+ /, '') });
      assert.deepEqual(withoutId(again.body), withoutId(out.body));
    });
  }

  it('answers a bootstrap that is not executable as Lambda does', async () => {
    const out = await invoke(server.lambda, 'not-executable');
    const body = out.body as ErrorBody;
    // Lambda: "RequestId: <id> Error: fork/exec /var/task/bootstrap: permission denied".
    assert.equal(body.errorType, 'Runtime.InvalidEntrypoint', JSON.stringify(body));
    assert.match(body.errorMessage ?? '', /Error: fork\/exec \S*\/bootstrap: permission denied$/);
  });

  it('answers a function without any bootstrap as Lambda does', async () => {
    const out = await invoke(server.lambda, 'no-bootstrap');
    const body = out.body as ErrorBody;
    assert.equal(body.errorType, 'Runtime.InvalidEntrypoint', JSON.stringify(body));
    assert.match(body.errorMessage ?? '', /Error: Couldn't find valid bootstrap\(s\): \[\/var\/task\/bootstrap \/opt\/bootstrap\]$/);
  });

  it('runs a compiled bootstrap that speaks HTTP/1.1 over its own socket', async (t) => {
    if (!Buffer.isBuffer(compiled)) return t.skip(compiled);
    const cold = await invoke(server.lambda, 'compiled', { n: 1 }, true);
    assert.equal(cold.FunctionError, undefined, JSON.stringify(cold.body));
    const first = cold.body as { runtime: string; count: number; pid: number; requestId: string; event: unknown };
    assert.equal(first.runtime, 'c');
    assert.equal(first.count, 1);
    assert.equal(first.requestId, cold.$metadata.requestId);
    assert.deepEqual(first.event, { n: 1 });
    assert.match(cold.log, new RegExp(`compiled runtime, handler function\\.handler, request ${first.requestId}`));

    const warm = await invoke(server.lambda, 'compiled', { n: 2 });
    const second = warm.body as typeof first;
    assert.equal(second.pid, first.pid);
    assert.equal(second.count, 2);

    const failed = await invoke(server.lambda, 'compiled', { fail: true });
    assert.equal(failed.FunctionError, 'Unhandled');
    assert.deepEqual(failed.body, { errorType: 'CompiledError', errorMessage: 'asked to fail' });
  });

  it('runs the bootstrap of a layer (/opt/bootstrap) when the function zip has only its handler', async () => {
    const out = await invoke(server.lambda, 'layer-runtime', { from: 'layer' }, true);
    assert.equal(out.FunctionError, undefined, JSON.stringify(out.body));
    const body = out.body as { runtime: string; event: unknown; handler: string };
    assert.equal(body.runtime, 'sh');
    assert.deepEqual(body.event, { from: 'layer' });
    assert.match(out.log, /shell handler got \{"from":"layer"\}/);
  });
});
