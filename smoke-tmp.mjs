import { startTestServer } from '/work/main/dist/test/support/kindling.js';
import { zipFiles } from '/work/main/dist/src/code/index.js';
import { CreateFunctionCommand, InvokeCommand, waitUntilFunctionActiveV2 } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeLogStreamsCommand, GetLogEventsCommand, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
const s = await startTestServer();
await s.lambda.send(new CreateFunctionCommand({ FunctionName: 'f', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/r', Code: { ZipFile: await zipFiles({ 'index.js': 'exports.handler = async (e) => { console.log("hello", e.n); console.error("ERROR bad"); return 1; };' }) } }));
await waitUntilFunctionActiveV2({ client: s.lambda, maxWaitTime: 10 }, { FunctionName: 'f' });
for (let n = 0; n < 3; n++) await s.lambda.send(new InvokeCommand({ FunctionName: 'f', Payload: Buffer.from(JSON.stringify({ n })) }));
s.kindling.logs.flush();
const c = new CloudWatchLogsClient({ endpoint: s.kindling.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
console.log(JSON.stringify(await c.send(new DescribeLogGroupsCommand({})), null, 1));
const st = await c.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/f' }));
console.log(st.logStreams);
console.log(await c.send(new GetLogEventsCommand({ logGroupName: '/aws/lambda/f', logStreamName: st.logStreams[0].logStreamName, limit: 4 })));
console.log(await c.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/f', filterPattern: 'ERROR', limit: 2 })));
try { await c.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/nope' })); } catch (e) { console.log(e.name, e.message, e.$metadata.httpStatusCode); }
try { await c.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/f', filterPattern: '{ $.a = 1 }' })); } catch (e) { console.log(e.name, e.message); }
console.log(s.kindling.url);
const { execFileSync } = await import('node:child_process');
console.log(execFileSync('/usr/bin/aws', ['--endpoint-url', s.kindling.url, 'logs', 'tail', '/aws/lambda/f', '--since', '1h'], { env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_DEFAULT_REGION: 'us-east-1', HOME: '/tmp' } }).toString());
c.destroy();
await s.close();
