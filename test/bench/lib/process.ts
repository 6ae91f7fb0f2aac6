import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface ServerProcess {
  pid: number;
  child: ChildProcess;
  /** The last lines it printed (stdout and stderr), for error messages. */
  tail(): string;
  /** Resolves when its output matches; rejects if it exits first or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<number | null>;
  /** Exit code/signal and last output line once it has ended, else undefined. */
  ended(): string | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// A run that dies without its orderly stop must not leave servers behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts a server in its own process group (so Ctrl-C reaches the runner, which stops the
 * servers in order, not every server at once) with its output in `logFile`.
 */
export function startServer(command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd?: string; logFile: string }): ServerProcess {
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const log = createWriteStream(options.logFile);
  let recent = '';
  let seen = '';
  const onData = (d: Buffer) => {
    log.write(d);
    const text = d.toString('utf8');
    recent = (recent + text).slice(-4000);
    seen = (seen + text).slice(-64_000);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      log.end();
      resolve(code);
    }),
  );
  return {
    pid: child.pid!,
    child,
    tail: () => recent,
    exited,
    ended() {
      if (child.exitCode === null && child.signalCode === null) return undefined;
      const last = recent.trim().split('\n').pop() ?? '';
      return `exited with ${child.exitCode ?? child.signalCode}${last ? `: ${last.slice(0, 300)}` : ''}`;
    },
    waitForOutput(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${pattern}; last output:\n${recent}`)), timeoutMs);
        const poll = setInterval(() => pattern.test(seen) && finish(), 50);
        const onExit = (code: number | null) => finish(new Error(`${command} exited with ${code} before ${pattern}; last output:\n${recent}`));
        child.once('exit', onExit);
        function finish(error?: Error) {
          clearTimeout(timer);
          clearInterval(poll);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve();
        }
      });
    },
    async stop(graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a command to its end; resolves with its exit code and output. */
export function runCommand(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (err) => {
      running.delete(child);
      reject(err);
    });
    child.on('exit', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}
