import type { InvokeInput, InvokeService } from '../invoke/index.js';
import { readBody, sendJson } from './http-io.js';
import { onFunction } from './route-access.js';
import type { RouteContext, Router } from './router.js';

/** Lambda's synchronous payload limit (6 MB), on the request as it arrives. */
export const INVOKE_REQUEST_LIMIT = 6 * 1024 * 1024;

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** An invoke's input as Invoke and InvokeWithResponseStream send it: path, Qualifier, the X-Amz-* headers, the body. */
export async function invokeInput(ctx: RouteContext, operation: string): Promise<Omit<InvokeInput, 'stream'>> {
  const { caller, req, params, query, requestId } = ctx;
  const payload = await readBody(req, INVOKE_REQUEST_LIMIT, operation);
  const qualifier = query.get('Qualifier');
  const invocationType = header(req.headers['x-amz-invocation-type']);
  const logType = header(req.headers['x-amz-log-type']);
  const clientContext = header(req.headers['x-amz-client-context']);
  return {
    requestId,
    functionName: params[0]!,
    account: caller.accountId,
    payload,
    ...(qualifier === null ? {} : { qualifier }),
    ...(invocationType === undefined ? {} : { invocationType }),
    ...(logType === undefined ? {} : { logType }),
    ...(clientContext === undefined ? {} : { clientContext }),
  };
}

/** The data plane: `POST /2015-03-31/functions/{FunctionName}/invocations`. */
export function invokeRoutes(router: Router, invoker: InvokeService): void {
  router.on('POST', /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/, onFunction('lambda:InvokeFunction', { qualified: true }), async (ctx) => {
    const { res } = ctx;
    const out = await invoker.invoke(await invokeInput(ctx, 'InvokeFunction'));
    const headers: Record<string, string | number> = {
      'X-Amzn-RequestId': out.requestId,
      'Content-Length': out.payload?.length ?? 0,
    };
    if (out.payload) headers['Content-Type'] = 'application/json';
    if (out.executedVersion) headers['X-Amz-Executed-Version'] = out.executedVersion;
    if (out.functionError) headers['X-Amz-Function-Error'] = out.functionError;
    if (out.logResult) headers['X-Amz-Log-Result'] = out.logResult;
    res.writeHead(out.status, headers);
    res.end(out.payload);
  });

  // The deprecated InvokeAsync API: 202 with {"Status": 202}.
  router.on('POST', /^\/2014-11-13\/functions\/([^/]+)\/invoke-async\/?$/, onFunction('lambda:InvokeAsync'), async ({ caller, req, res, params, requestId }) => {
    const payload = await readBody(req, INVOKE_REQUEST_LIMIT, 'InvokeAsync');
    await invoker.invokeAsync(params[0]!, payload, requestId, caller.accountId);
    sendJson(res, 202, { Status: 202 }, requestId);
  });
}
