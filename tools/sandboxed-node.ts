// Runs model-written JavaScript under limits: the code of a test a model wrote is as untrusted as
// the model. What holds, and what does not on this machine, is reported with the result rather
// than assumed:
// - time: the whole process group is killed at the deadline (and when the call is aborted);
// - memory: V8's heap is capped (`--max-old-space-size`);
// - output: stdout is cut at a size limit and the process killed;
// - environment: only PATH, LANG and HOME=<work dir> are passed (no API keys, no tokens);
// - file system: Node's permission model allows reading and writing the work directory only
//   (and forbids child processes, workers and native addons);
// - network: a new, empty network namespace (`unshare -n`, or `-rn` without root) when the OS allows.
import { execFile, spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';

export interface SandboxLimits {
  timeoutMs: number;
  maxOldSpaceMb: number;
  maxOutputBytes: number;
}

export const defaultSandboxLimits: SandboxLimits = { timeoutMs: 55_000, maxOldSpaceMb: 512, maxOutputBytes: 1_000_000 };

export interface SandboxResult {
  stdout: string;
  exitCode: number | null;
  /** The signal that ended the process, when one did (a heap overflow aborts). */
  exitSignal: NodeJS.Signals | null;
  /** Why the process was stopped early, when it was. */
  killed?: 'timeout' | 'output-limit' | 'aborted';
  /** Protections that could not be applied here, in words, for the result the model reads. */
  limitations: string[];
}

let networkIsolation: Promise<string[] | undefined> | undefined;

/** The `unshare` arguments that give a process no network here, found once by trying them; undefined when none work. */
export function networkIsolationArgs(): Promise<string[] | undefined> {
  networkIsolation ??= (async () => {
    if (process.platform !== 'linux') return undefined;
    for (const args of [['-n'], ['-rn']]) {
      const works = await new Promise<boolean>((done) => execFile('unshare', [...args, 'true'], { timeout: 10_000 }, (error) => done(!error)));
      if (works) return args;
    }
    return undefined;
  })();
  return networkIsolation;
}

function permissionFlag(): string | undefined {
  const flags = process.allowedNodeEnvironmentFlags;
  if (flags.has('--permission')) return '--permission';
  if (flags.has('--experimental-permission')) return '--experimental-permission';
  return undefined;
}

/** Runs `node <entry>` in `root` (both real paths are computed here) under the limits above. */
export async function runSandboxedNode(
  root: string,
  entry: string,
  nodeArgs: readonly string[],
  signal: AbortSignal,
  limits: SandboxLimits = defaultSandboxLimits,
): Promise<SandboxResult> {
  const realRoot = await realpath(root);
  const limitations: string[] = [];
  const permission = permissionFlag();
  const fsArgs = permission ? [permission, `--allow-fs-read=${realRoot}`, `--allow-fs-write=${realRoot}`] : [];
  if (!permission) limitations.push('file access is not confined (this Node has no permission model)');
  const node = [process.execPath, ...fsArgs, `--max-old-space-size=${limits.maxOldSpaceMb}`, ...nodeArgs, entry];
  const isolation = await networkIsolationArgs();
  if (!isolation) limitations.push('the network is reachable (no network namespace is available here)');
  const [command, ...args] = isolation ? ['unshare', ...isolation, ...node] : node;

  return new Promise<SandboxResult>((done, fail) => {
    // detached: the child leads a new process group, so the deadline kills everything it started.
    const child = spawn(command!, args, {
      cwd: realRoot,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: realRoot },
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    });
    let killed: SandboxResult['killed'];
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (why: NonNullable<SandboxResult['killed']>) => {
      killed ??= why;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => stop('timeout'), limits.timeoutMs);
    const onAbort = () => stop('aborted');
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      if (size >= limits.maxOutputBytes) return;
      chunks.push(chunk.subarray(0, limits.maxOutputBytes - size));
      size += chunk.length;
      if (size >= limits.maxOutputBytes) stop('output-limit');
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      fail(error);
    });
    child.on('close', (exitCode, exitSignal) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      done({ stdout: Buffer.concat(chunks).toString('utf8'), exitCode, exitSignal, limitations, ...(killed ? { killed } : {}) });
    });
  });
}
