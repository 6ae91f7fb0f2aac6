import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * A network namespace of our own, holding only a loopback interface.
 *
 * Orthanc 1.10 cannot bind to loopback alone (RemoteAccessAllowed opens every interface), so
 * it runs where "every interface" is one loopback that nothing outside this machine can
 * reach. The whole benchmark run goes in there too — the hub, both PostgreSQL servers and
 * every load generator — so hub and Orthanc are measured over the same network path.
 */
export const DEFAULT_NAMESPACE = 'hubbench';

/** Set in the environment of a process that runs inside the namespace. */
const INSIDE = 'BENCH_NETNS_INSIDE';

export function insideNamespace(): string | undefined {
  return process.env[INSIDE] || undefined;
}

/** Creating a namespace needs root (CAP_SYS_ADMIN) and iproute2. */
export function canCreateNamespaces(): boolean {
  return process.getuid?.() === 0 && ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].some((p) => existsSync(p));
}

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Process ids living in the namespace (`ip netns pids`). */
export function pidsIn(name: string): number[] {
  try {
    return ip('netns', 'pids', name).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function exists(name: string): boolean {
  return ip('netns', 'list').split('\n').some((line) => line.split(' ')[0] === name);
}

/**
 * Creates the namespace with its loopback up. A namespace of that name left by a run that
 * was killed is reused when nothing runs in it; one with processes belongs to a run still
 * going, and is refused.
 */
export function createNamespace(name: string): void {
  if (exists(name)) {
    const pids = pidsIn(name);
    if (pids.length > 0) throw new Error(`network namespace ${name} is in use by pids ${pids.join(' ')} (another benchmark run?)`);
  } else {
    ip('netns', 'add', name);
  }
  ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
}

/** Stops what is still running in the namespace (our own children, by pid), then deletes it. */
export async function deleteNamespace(name: string): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const pids = pidsIn(name);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 50 && pidsIn(name).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  }
  try {
    ip('netns', 'delete', name);
  } catch (err) {
    process.stderr.write(`could not delete network namespace ${name}: ${(err as Error).message}\n`);
  }
}

/** The argv that runs `command` inside the namespace: `ip netns exec NAME command…`. */
export function inNamespace(name: string, command: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: 'ip', args: ['netns', 'exec', name, command, ...args] };
}

/**
 * Runs the current script again inside the namespace (creating it first) and deletes the
 * namespace when that process ends, however it ends. Resolves with its exit code; the caller
 * exits with it. Ctrl-C reaches the inner process directly (same process group); SIGTERM
 * sent to this one is passed on.
 */
export async function rerunInNamespace(name: string): Promise<number> {
  createNamespace(name);
  const { command, args } = inNamespace(name, process.execPath, [...process.execArgv, ...process.argv.slice(1)]);
  const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, [INSIDE]: name } });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  const ignoreInt = () => undefined; // the inner run sees Ctrl-C itself and cleans up
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  process.on('SIGINT', ignoreInt);
  const code = await new Promise<number>((resolve) => {
    child.on('exit', (c, signal) => resolve(c ?? (signal === 'SIGINT' ? 130 : 1)));
    child.on('error', (err) => {
      process.stderr.write(`could not enter namespace ${name}: ${err.message}\n`);
      resolve(1);
    });
  });
  process.off('SIGTERM', forward);
  process.off('SIGHUP', forward);
  process.off('SIGINT', ignoreInt);
  await deleteNamespace(name);
  return code;
}
