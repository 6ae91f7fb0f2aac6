import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../..');

export interface HubProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout contains `text`; rejects if the process exits first or time runs out. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Runs a TypeScript entry point of the repo as its own process, as `npm start` would. */
export function runEntry(entry: string, env: Record<string, string>, args: string[] = []): HubProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(text, timeoutMs = 60_000) {
      const found = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out waiting for ${String(text)}; stderr: ${err.slice(-2000)}`)), timeoutMs);
        const poll = setInterval(() => found() && done(), 50);
        const onExit = (code: number | null) => done(new Error(`exited with ${code} before ${String(text)}; stderr: ${err.slice(-2000)}`));
        child.once('exit', onExit);
        function done(error?: Error) {
          clearTimeout(timer);
          clearInterval(poll);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve();
        }
      });
    },
  };
}
