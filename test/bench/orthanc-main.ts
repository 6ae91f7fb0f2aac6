import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { canCreateNamespaces, DEFAULT_NAMESPACE, insideNamespace, rerunInNamespace } from './lib/netns';
import { ensureOrthancInstalled, startOrthanc } from './orthanc';

/**
 * Orthanc as the benchmark runs it, on its own, to look at by hand:
 *
 *   node --import tsx test/bench/orthanc-main.ts
 *   ip netns exec hubbench curl -s http://127.0.0.1:PORT/system        (in another shell)
 *
 * Ctrl-C stops Orthanc and its PostgreSQL and deletes the namespace.
 */
async function main(): Promise<number> {
  const namespace = process.env.BENCH_NETNS || DEFAULT_NAMESPACE;
  if (!insideNamespace()) {
    if (!canCreateNamespaces()) throw new Error('needs root and iproute2: Orthanc is only run inside a network namespace');
    ensureOrthancInstalled((line) => console.log(line));
    return rerunInNamespace(namespace);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-orthanc-'));
  await chmod(dir, 0o755); // PostgreSQL runs as its own user under root
  const orthanc = await startOrthanc({ dir: path.join(dir, 'orthanc') });
  console.log(`Orthanc ${orthanc.version} is ready in network namespace ${insideNamespace()} (folder ${dir})`);
  console.log(`  DICOMweb   ${orthanc.dicomweb}/   e.g. ip netns exec ${insideNamespace()} curl -s ${orthanc.dicomweb.replace(/\/dicom-web$/, '')}/system`);
  console.log(`  DICOM      ${orthanc.dicom.calledAe}@${orthanc.dicom.host}:${orthanc.dicom.port}`);
  console.log(`  PostgreSQL ${orthanc.databaseUrl}`);
  console.log('Ctrl-C stops it.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await orthanc.stop();
  await rm(dir, { recursive: true, force: true });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`orthanc: ${err.message}`);
    process.exit(1);
  },
);
