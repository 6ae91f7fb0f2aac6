import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__hubTestPostgres;
  if (!state) return;
  await state.embedded?.stop();
  if (state.dir) await rm(state.dir, { recursive: true, force: true });
}
