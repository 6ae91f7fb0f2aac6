import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './process';

const run = promisify(execFile);

/** OHIF Viewer v3 as published: its npm package ships the built app (dist/) a site serves as is. */
export const OHIF_PACKAGE = '@ohif/app';
export const OHIF_VERSION = '3.13.2';
/** Ignored by git (.gitignore): fetched once, kept across runs. */
export const OHIF_CACHE = path.join(repoRoot, 'test', '.cache', 'ohif');

const npm = async (args: string[], cwd: string) => (await run('npm', args, { cwd, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } })).stdout;

async function sha512(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest('base64')}`;
}

/**
 * The folder of OHIF Viewer's built app. The first call fetches the package with `npm pack`
 * from the npm registry the project installs from, checks the tarball against the integrity
 * the registry publishes (`npm view … dist.integrity`), and unpacks it into OHIF_CACHE; later
 * calls find it there. Fails with a message saying what to do when it cannot be fetched.
 */
export async function ohifDist(): Promise<string> {
  const folder = path.join(OHIF_CACHE, OHIF_VERSION);
  const dist = path.join(folder, 'package', 'dist');
  const verified = path.join(folder, 'verified');
  if (existsSync(verified) && existsSync(path.join(dist, 'index.html'))) return dist;
  const spec = `${OHIF_PACKAGE}@${OHIF_VERSION}`;
  await mkdir(OHIF_CACHE, { recursive: true });
  const work = await mkdtemp(path.join(OHIF_CACHE, '.fetching-'));
  try {
    const expected = (await npm(['view', spec, 'dist.integrity'], work)).trim();
    if (!/^sha512-[A-Za-z0-9+/]+=*$/.test(expected)) throw new Error(`the registry gave no sha512 integrity for ${spec} ("${expected.slice(0, 100)}")`);
    const packed = JSON.parse(await npm(['pack', spec, '--json', '--pack-destination', work], work)) as Array<{ filename: string }>;
    const tarball = path.join(work, packed[0]!.filename);
    const actual = await sha512(tarball);
    if (actual !== expected) throw new Error(`the tarball of ${spec} does not match the registry's integrity (${actual} is not ${expected})`);
    await run('tar', ['-xzf', tarball, '-C', work]);
    await unlink(tarball);
    if (!existsSync(path.join(work, 'package', 'dist', 'index.html'))) throw new Error(`${spec} has no built app in dist/`);
    await writeFile(path.join(work, 'verified'), `${spec} ${expected}\n`);
    await rm(folder, { recursive: true, force: true });
    await rename(work, folder);
    return dist;
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    // another run unpacked it meanwhile
    if (existsSync(verified) && existsSync(path.join(dist, 'index.html'))) return dist;
    throw new Error(
      `OHIF Viewer ${OHIF_VERSION} could not be fetched from the npm registry (${(err as Error).message.split('\n')[0]}). ` +
        `The OHIF test needs it once: run \`npm pack ${spec}\` where the registry is reachable, or let this test do it; it is kept in ${path.relative(repoRoot, OHIF_CACHE)}.`,
    );
  }
}

const TYPES: Record<string, string> = { '.js': 'application/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2' };

/**
 * OHIF's app served as a site does: the files of `dist`, index.html for every route of the
 * single-page app, and `/app-config.js` from `config` (the site's own configuration).
 */
export async function serveOhif(dist: string, config: string): Promise<{ url: string; close(): Promise<void> }> {
  const index = await readFile(path.join(dist, 'index.html'));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://ohif');
    if (url.pathname === '/app-config.js') return void res.writeHead(200, { 'content-type': 'application/javascript' }).end(config);
    const file = path.join(dist, decodeURIComponent(url.pathname));
    if (!file.startsWith(`${dist}${path.sep}`) || !existsSync(file) || statSync(file).isDirectory()) return void res.writeHead(200, { 'content-type': 'text/html' }).end(index);
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** An app-config.js pointing OHIF at one DICOMweb service, without its first-visit dialogs. */
export function ohifConfig(dicomweb: string): string {
  const config = {
    routerBasename: '/',
    extensions: [],
    modes: [],
    showStudyList: true,
    showWarningMessageForCrossOrigin: false,
    showCPUFallbackMessage: false,
    investigationalUseDialog: { option: 'never' },
    defaultDataSourceName: 'hub',
    dataSources: [
      {
        namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
        sourceName: 'hub',
        configuration: {
          friendlyName: 'Regional results hub',
          name: 'hub',
          wadoUriRoot: dicomweb,
          qidoRoot: dicomweb,
          wadoRoot: dicomweb,
          qidoSupportsIncludeField: true,
          supportsReject: false,
          imageRendering: 'wadors',
          thumbnailRendering: 'wadors',
          enableStudyLazyLoad: true,
          supportsFuzzyMatching: false,
          supportsWildcard: true,
          omitQuotationForMultipartRequest: true,
          bulkDataURI: { enabled: true },
        },
      },
    ],
  };
  return `window.config = ${JSON.stringify(config, null, 2)};\n`;
}
