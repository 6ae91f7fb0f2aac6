import { readdir, readFile } from 'node:fs/promises';

/**
 * Memory and CPU of the servers under test, read from /proc.
 *
 * A server is reported as named groups of processes ("hub" and "hub postgres", "orthanc" and
 * "orthanc postgres"): PostgreSQL runs as a postmaster plus one process per connection, and
 * their RSS figures all count the same shared buffers again. So a group's memory is given as
 * the sum of PSS (proportional set size: each shared page split between the processes that
 * map it), next to the sum of RSS, which overstates it.
 */
export type ProcessGroups = Record<string, number[]>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

async function read(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined; // the process ended between listing and reading
  }
}

/** `pid` and every process below it. */
export async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await read(`/proc/${entry}/stat`);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = parents.get(ppid) ?? [];
    list.push(Number(entry));
    parents.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    out.push(next);
    queue.push(...(parents.get(next) ?? []));
  }
  return out;
}

export async function processName(pid: number): Promise<string | undefined> {
  return (await read(`/proc/${pid}/comm`))?.trim();
}

export interface ProcessMemory {
  rssKb: number;
  /** Peak RSS over the process's life (VmHWM). */
  hwmKb: number;
  pssKb: number;
}

export async function processMemory(pid: number): Promise<ProcessMemory | undefined> {
  const status = await read(`/proc/${pid}/status`);
  if (!status) return undefined;
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const rollup = await read(`/proc/${pid}/smaps_rollup`);
  return { rssKb: field(status, 'VmRSS'), hwmKb: field(status, 'VmHWM'), pssKb: rollup ? field(rollup, 'Pss') : 0 };
}

/** CPU time (user + system) a process has used, in seconds. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await read(`/proc/${pid}/stat`);
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export interface GroupPeak {
  /** Highest sampled sum of RSS over the group, MB. */
  rssMb: number;
  /** Highest sampled sum of PSS over the group, MB. */
  pssMb: number;
  /** Highest VmHWM of a single process of the group at the end, MB (the life-time peak). */
  hwmMb: number;
}

const mb = (kb: number) => Math.round(kb / 1024);

/**
 * Samples the groups every `intervalMs` until stopped; returns each group's peaks. A spike
 * shorter than the interval can be missed by the sums; VmHWM never misses one.
 */
export function sampleMemory(groups: () => Promise<ProcessGroups>, intervalMs = 200): { stop(): Promise<Record<string, GroupPeak>> } {
  const peaks: Record<string, { rss: number; pss: number; hwm: number }> = {};
  let running = true;
  const once = async () => {
    for (const [name, pids] of Object.entries(await groups())) {
      const peak = (peaks[name] ??= { rss: 0, pss: 0, hwm: 0 });
      let rss = 0;
      let pss = 0;
      for (const pid of pids) {
        const m = await processMemory(pid);
        if (!m) continue;
        rss += m.rssKb;
        pss += m.pssKb;
        peak.hwm = Math.max(peak.hwm, m.hwmKb);
      }
      peak.rss = Math.max(peak.rss, rss);
      peak.pss = Math.max(peak.pss, pss);
    }
  };
  const loop = (async () => {
    while (running) {
      await once();
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    await once();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Object.fromEntries(Object.entries(peaks).map(([name, p]) => [name, { rssMb: mb(p.rss), pssMb: mb(p.pss), hwmMb: mb(p.hwm) }]));
    },
  };
}

/** Total CPU seconds used so far by every process of the groups. */
export async function groupCpuSeconds(groups: ProcessGroups): Promise<number> {
  let total = 0;
  for (const pids of Object.values(groups)) for (const pid of pids) total += await cpuSeconds(pid);
  return total;
}

/**
 * Waits until the server has finished the work a push left behind (the hub indexes after it
 * acknowledges; Orthanc runs its own jobs): until its processes use less than `idleCores`
 * of CPU over a whole `windowMs`. Returns the seconds waited.
 */
export async function waitUntilQuiet(groups: () => Promise<ProcessGroups>, options: { idleCores?: number; windowMs?: number; timeoutMs?: number } = {}): Promise<number> {
  const { idleCores = 0.05, windowMs = 1000, timeoutMs = 300_000 } = options;
  const started = performance.now();
  for (;;) {
    const before = await groupCpuSeconds(await groups());
    await new Promise((r) => setTimeout(r, windowMs));
    const used = (await groupCpuSeconds(await groups())) - before;
    const waited = (performance.now() - started) / 1000;
    // The window that proved it quiet is not part of the work.
    if (used / (windowMs / 1000) < idleCores) return Math.max(0, waited - windowMs / 1000);
    if (waited * 1000 > timeoutMs) throw new Error(`server still busy after ${Math.round(waited)} s`);
  }
}
