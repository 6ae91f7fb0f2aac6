import type { BenchContext } from './context';
import type { Row } from './report';

/** A benchmark: prints figures (a table of rows); it is not a test and asserts nothing. */
export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Row[]>;
}
