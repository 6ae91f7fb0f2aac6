import { randomBytes } from 'node:crypto';
import { frame } from '@hub/shared/hl7';
import type { Benchmark } from '../lib/benchmark';
import { memoryColumns } from '../lib/context';
import { oruMessage } from '@hub/shared/hl7/testing';
import { sendOverMllp } from '../lib/mllp-client';
import { round, type Row } from '../lib/report';
import { Unsupported } from '../lib/target';

/** The figure copy-ceiling leaves for this one. */
export const COPY_CEILING = 'copy-ceiling messages/s';

export const mllp: Benchmark = {
  name: 'mllp',
  description: 'ORU^R01 (10 OBX each) over MLLP: BENCH_MLLP_MESSAGES messages on 1 and 8 connections, one at a time and pipelined (BENCH_MLLP_WINDOW), ACK after each is durable',
  async run(ctx) {
    const runs = [
      { connections: 1, window: 1 },
      { connections: 1, window: ctx.sizes.mllpWindow },
      { connections: 8, window: 1 },
      { connections: 8, window: ctx.sizes.mllpWindow },
    ];
    return ctx.each(ctx.compared().filter((t) => t === 'hub'), async (target) => {
      if (!target.mllp) throw new Unsupported(`${target.name} has no MLLP listener`);
      const { host, port, sendingFacility } = target.mllp;
      const out: Row[] = [];
      for (const { connections, window } of runs) {
        await ctx.quiet(target);
        const runId = randomBytes(4).toString('hex').toUpperCase();
        const frames = Array.from({ length: ctx.sizes.mllpMessages }, (_, i) => frame(Buffer.from(oruMessage(i, { sendingFacility, runId }), 'utf8')));
        const pushed = await ctx
          .measure(target, () => sendOverMllp(host, port, { connections, window, count: frames.length, message: (i) => frames[i]! }))
          .catch((err: NodeJS.ErrnoException) => {
            if (err.code === 'ECONNREFUSED') throw new Unsupported(`${target.name} has no MLLP listener on ${host}:${port}`);
            throw err;
          });
        const { acks, seconds, firstRefusal } = pushed.value;
        if (!acks.AA && !acks.CA) throw new Error(`no message accepted: ${JSON.stringify(acks)}; first refusal: ${firstRefusal}`);
        // Until the hub is idle again: what the index workers needed after the last ACK.
        const drained = await ctx.quiet(target);
        const rate = ctx.sizes.mllpMessages / seconds;
        const ceiling = ctx.figures.get(COPY_CEILING);
        out.push({
          target: target.name,
          connections,
          window,
          messages: ctx.sizes.mllpMessages,
          'msg/s': round(rate),
          'obs/s': round(rate * 10),
          'not AA': ctx.sizes.mllpMessages - (acks.AA ?? 0) - (acks.CA ?? 0),
          'indexing after last ACK s': drained,
          'msg/s incl. indexing': round(ctx.sizes.mllpMessages / (seconds + drained)),
          'share of COPY ceiling': ceiling ? `${round((rate / ceiling) * 100)} %` : 'run copy-ceiling first',
          ...memoryColumns(target, pushed.memory),
        });
        if (firstRefusal) ctx.notes.push(`mllp ${connections}×${window}: first refusal: ${firstRefusal}`);
      }
      return out;
    });
  },
};
