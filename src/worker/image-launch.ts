/**
 * How a container image function (PackageType Image) starts, as Lambda starts one: the image's
 * ENTRYPOINT and CMD (each overridden by the function's ImageConfig), in its WORKDIR, with its ENV
 * under the function's variables and Lambda's own. `_HANDLER` is the first element of the command.
 */
import { lookupInRoot } from '../code/index.js';
import type { FunctionRecord } from '../store/index.js';
import { lambdaVariables } from './lambda-variables.js';
import { InvalidEntrypoint, type Launch, type LaunchContext } from './runtime-launch.js';

/** What Docker gives a container whose image sets no PATH. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function imageLaunch(fn: FunctionRecord, ctx: LaunchContext): Launch {
  // The process sandbox has no mount namespace: the image's files would be looked up on the host's
  // own file system. Rather than run it half-right, the environment fails with the reason.
  if (!ctx.runsImages) {
    throw new InvalidEntrypoint(
      'container image functions need a sandbox that shows the image as its root file system: start Kindling with --sandbox namespace (or tag the function kindling:sandbox=namespace); this sandbox cannot run them',
    );
  }
  const image = fn.imageDefaults ?? {};
  const override = fn.imageConfig ?? {};
  // Each ImageConfig setting replaces the image's own; the others stay as the image has them.
  const entryPoint = override.entryPoint ?? image.entryPoint ?? [];
  const command = override.command ?? image.command ?? [];
  const argv = [...entryPoint, ...command];
  const [program, ...args] = argv;
  if (program === undefined || program === '') throw new InvalidEntrypoint('the image sets no ENTRYPOINT or CMD, and the function no ImageConfig');

  const env: Record<string, string> = {
    PATH: DEFAULT_PATH,
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    ...image.environment,
    ...fn.environment,
    ...(command[0] !== undefined ? { _HANDLER: command[0] } : {}),
    ...lambdaVariables(fn, ctx),
  };
  const workingDir = override.workingDirectory ?? image.workingDirectory ?? '/';
  return { command: resolveProgram(ctx.codeDir, program, env['PATH'] ?? DEFAULT_PATH, workingDir), args, env, rootfs: ctx.codeDir, workingDir };
}

/** The program as an absolute path inside the image; Lambda's messages when it cannot be run. */
function resolveProgram(root: string, program: string, path: string, workingDir: string): string {
  const candidates = program.includes('/') ? [program.startsWith('/') ? program : `${workingDir}/${program}`] : path.split(':').filter((dir) => dir.startsWith('/')).map((dir) => `${dir}/${program}`);
  const found = candidates.map((candidate) => ({ candidate, file: lookupInRoot(root, candidate) })).find((c) => c.file !== undefined);
  if (!found?.file) throw new InvalidEntrypoint(`fork/exec ${program}: no such file or directory`);
  if ((found.file.mode & 0o170000) !== 0o100000 || (found.file.mode & 0o111) === 0) throw new InvalidEntrypoint(`fork/exec ${found.candidate}: permission denied`);
  return found.candidate;
}
