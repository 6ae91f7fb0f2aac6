import { execFile } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { freePort } from '@hub/shared/testing';
import { repoRoot } from './process';

export interface FhirKitSearch {
  resourceType: string;
  searchParams: Record<string, string | string[]>;
}

// fhir-kit-client is an ES module, which Jest's CommonJS runtime cannot load: it runs in a
// node process of its own, as any FHIR client would, and prints every page it fetched.
const script = `
const { Client } = await import('fhir-kit-client');
const { baseUrl, token, searches } = JSON.parse(process.env.FHIR_KIT_PLAN);
const client = new Client({ baseUrl, customHeaders: { Authorization: 'Bearer ' + token, 'X-Practitioner': 'fhir-kit-client' } });
const out = [];
for (const s of searches) {
  const pages = [];
  let bundle = await client.search({ resourceType: s.resourceType, searchParams: s.searchParams });
  while (bundle) {
    pages.push(bundle);
    if (pages.length > 100) throw new Error('more than 100 pages');
    bundle = await client.nextPage({ bundle });
  }
  out.push(pages);
}
process.stdout.write(JSON.stringify(out));
`;

/** Runs searches with fhir-kit-client, following `next` links to the end; every page of each. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fhirKitSearch(baseUrl: string, token: string, searches: FhirKitSearch[]): Promise<any[][]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', FHIR_KIT_PLAN: JSON.stringify({ baseUrl, token, searches }) }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`fhir-kit-client failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/**
 * A plain HTTP forwarder on a port known before the hub starts, so HUB_PUBLIC_URL (and the
 * paging links built from it) can name it — as a reverse proxy in front of the hub does.
 */
export async function publicUrlProxy(): Promise<{ url: string; forwardTo(port: number): void; close(): Promise<void> }> {
  const port = await freePort();
  let target = 0;
  const server: Server = createServer((req, res) => {
    const upstream = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    forwardTo: (p) => (target = p),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
