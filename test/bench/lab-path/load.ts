import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
// Declared by the test workspace (@hub/e2e), which has the benchmarks; this script runs from the same install.
import { from as copyFrom } from 'pg-copy-streams';
import { MllpDecoder, parseMessage } from '@hub/shared/hl7';
import { labSubmissionOf } from '@hub/ingest';
import type { LabSubmission } from '@hub/shared/lab';

/** The ACK code (MSA-1) of an ACK, read without parsing the whole ACK: the client must cost little. */
function ackCode(ack: Buffer): string {
  const at = ack.indexOf('MSA|');
  return at < 0 ? '?' : ack.subarray(at + 4, at + 6).toString('latin1');
}

export interface Pushed {
  seconds: number;
  acks: Record<string, number>;
}

/**
 * Sends `frames` over `connections` MLLP connections, each keeping up to `window` frames
 * ahead of their ACKs (1: the classic LIS that waits for each ACK), or, with `perSecond`, at
 * that pace whatever the ACKs. Resolves when every ACK is in.
 */
export async function push(port: number, frames: Buffer[], o: { connections: number; window: number; perSecond?: number }): Promise<Pushed> {
  const acks: Record<string, number> = {};
  let next = 0;
  const sockets = await Promise.all(
    Array.from({ length: o.connections }, () => new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
      s.once('error', reject);
    })),
  );
  const started = performance.now();
  const due = () => (o.perSecond ? Math.min(frames.length, Math.floor(((performance.now() - started) / 1000) * o.perSecond) + 1) : frames.length);
  await Promise.all(
    sockets.map((socket) => new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      let timer: NodeJS.Timeout | undefined;
      const pump = () => {
        while (inFlight < o.window && next < due()) {
          inFlight++;
          socket.write(frames[next++]!);
        }
        if (inFlight === 0 && next >= frames.length) {
          clearInterval(timer);
          resolve();
        }
      };
      if (o.perSecond) timer = setInterval(pump, 2);
      socket.on('data', (chunk: Buffer) => decoder.push(chunk));
      const decoder = new MllpDecoder({
        onFrame: (ack) => {
          inFlight--;
          const code = ackCode(ack);
          acks[code] = (acks[code] ?? 0) + 1;
          pump();
        },
      });
      socket.on('error', reject);
      socket.on('close', () => (next < frames.length || inFlight > 0 ? reject(new Error(`connection closed with ${inFlight} unacknowledged`)) : resolve()));
      pump();
    })),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const s of sockets) s.end();
  return { seconds, acks };
}

/** COPY text format: backslash, tab, newline and carriage return escaped; null as \N. */
const copyText = (v: unknown): string => {
  if (v === null || v === undefined) return '\\N';
  const s = Array.isArray(v) ? `{${v.map((x) => `"${String(x).replace(/["\\]/g, '\\$&')}"`).join(',')}}` : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
};
const line = (values: unknown[]) => `${values.map(copyText).join('\t')}\n`;

/**
 * The database's ceiling for the rows the lab path writes per ORU^R01: its accepted_objects
 * row (with the summary the door really writes), its lab_reports row and its observations,
 * loaded by COPY FROM STDIN in one transaction into a scratch database with the hub's schema
 * (`url` names it, migrated, with `patients` records 1..N of organization `organizationId`).
 * The rows are built before the clock starts. Returns messages per second.
 */
export async function copyCeiling(url: string, messages: string[], organizationId: number, patients: number, idHashSecret: string): Promise<number> {
  const accepted: string[] = [];
  const reports: string[] = [];
  const observations: string[] = [];
  messages.forEach((text, i) => {
    const bytes = Buffer.from(text, 'utf8');
    const message = parseMessage(bytes);
    const mapped = labSubmissionOf(message, { idHashSecret, now: new Date() });
    if (!mapped.ok) throw new Error(`bench message ${i} does not map: ${JSON.stringify(mapped.errors)}`);
    const submission: LabSubmission = mapped.submission;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const id = i + 1;
    const patientId = (i % patients) + 1;
    accepted.push(line([id, 'hl7v2', organizationId, `${organizationId}|${message.controlId}`, sha256, bytes.length, `hl7v2/BENCH/2024-01-01/seg-${Math.floor(i / 200)}.mllp`, (i % 200) * 1300, 'mllp', { ...submission, controlId: message.controlId, charset: message.charset }, 'indexed']));
    const r = submission.groups[0]!.reports[0]!;
    reports.push(line([id, organizationId, patientId, r.key, r.placerOrderNumber, r.fillerOrderNumber, r.local?.code, r.local?.display, r.loinc?.code, r.loinc?.display, r.status, r.effectiveAt, r.issuedAt, r.specimen?.type, r.specimen?.display, 'hl7v2', id]));
    for (const o of r.observations) {
      observations.push(line([
        patientId, id, organizationId, o.key, o.local?.code, o.local?.display, o.loinc?.code, o.loinc?.display, o.valueType, o.value?.number, o.value?.comparator, o.value?.text,
        o.unit?.text, o.unit?.code, o.unit?.ucum ?? false, o.referenceRange?.low, o.referenceRange?.high, o.referenceRange?.text, o.abnormalFlags, o.status, o.effectiveAt ?? r.effectiveAt, o.issuedAt ?? r.issuedAt, id,
      ]));
    }
  });
  const chunks = (rows: string[]) => Array.from({ length: Math.ceil(rows.length / 500) }, (_, k) => rows.slice(k * 500, (k + 1) * 500).join(''));

  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const copy = (sql: string, rows: string[]) => pipeline(Readable.from(chunks(rows)), db.query(copyFrom(sql)));
    const started = performance.now();
    await db.query('begin');
    await copy('copy accepted_objects (id, kind, organization_id, identity, sha256, size, blob_key, blob_offset, source, summary, state) from stdin', accepted);
    await copy('copy lab_reports (id, organization_id, patient_id, report_key, placer_order_number, filler_order_number, local_code, local_display, loinc_code, loinc_display, status, effective_at, issued_at, specimen_type, specimen_display, source, accepted_id) from stdin', reports);
    await copy(
      `copy observations (patient_id, report_id, organization_id, obs_key, local_code, local_display, loinc_code, loinc_display, value_type, value_num, value_comparator, value_text,
                          unit, unit_code, unit_ucum, ref_low, ref_high, ref_text, abnormal_flags, status, effective_at, issued_at, accepted_id) from stdin`,
      observations,
    );
    await db.query('commit');
    return messages.length / ((performance.now() - started) / 1000);
  } finally {
    await db.end();
  }
}

/** CPU seconds (user + system) a process has used, with its reaped children's: Linux /proc, 0 elsewhere. */
async function cpuOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime are fields 14-17 of stat; the slice above starts at field 3
    return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0) / 100;
  } catch {
    return 0;
  }
}

/** The live children of `pid` (PostgreSQL's backends under its postmaster). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
  }
  return out;
}

/**
 * CPU seconds used so far by a service process and by the PostgreSQL whose data folder is
 * `pgDir` (postmaster, its live backends, and those it has reaped): read before and after a
 * run, the difference is where that run's time went.
 */
export async function cpuSeconds(servicePid: number | undefined, pgDir: string): Promise<{ service: number; postgres: number }> {
  const postmaster = Number((await readFile(path.join(pgDir, 'postmaster.pid'), 'utf8').catch(() => '0')).split('\n')[0]);
  let postgres = postmaster ? await cpuOf(postmaster) : 0;
  if (postmaster) for (const child of await childrenOf(postmaster)) postgres += await cpuOf(child);
  return { service: servicePid ? await cpuOf(servicePid) : 0, postgres };
}
