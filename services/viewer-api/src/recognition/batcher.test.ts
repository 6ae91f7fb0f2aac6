import { createBatcher } from './batcher';

describe('the batcher', () => {
  it('runs a caller alone at once, and those who arrive meanwhile together in the next statement', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const run = createBatcher(async (inputs: number[]) => {
      batches.push(inputs);
      if (batches.length === 1) await new Promise<void>((r) => (release = r));
      return inputs.map((i) => i * 10);
    });
    const first = run(1);
    const others = [run(2), run(3), run(4)];
    release();
    expect(await Promise.all([first, ...others])).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('gives every caller of a failed batch the error, and goes on with the next', async () => {
    let calls = 0;
    const run = createBatcher(async (inputs: string[]) => {
      calls++;
      if (inputs.includes('bad')) throw new Error('statement failed');
      return inputs;
    });
    const results = await Promise.allSettled([run('bad'), run('good')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(calls).toBe(2);
  });

  it('keeps at most the given number of statements in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const run = createBatcher(
      async (inputs: number[]) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return inputs;
      },
      { inFlight: 2, maxBatch: 3 },
    );
    await Promise.all(Array.from({ length: 20 }, (_, i) => run(i)));
    expect(most).toBe(2);
  });
});
