import http from 'node:http';
import { createServer } from 'node:net';

/** A free TCP port on the loopback of wherever this process runs (the namespace, in a run). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// Clients keep their connections, as a PACS or a viewer does.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, unless the caller consumed it with `onChunk`. */
  body: Buffer;
  /** Body bytes received. */
  bytes: number;
}

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  /** A buffer, or a stream of chunks written with back-pressure (never held whole). */
  body?: Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;
  /** Required with a chunk stream when the server should get Content-Length instead of chunked encoding. */
  contentLength?: number;
  /** Receive the body chunk by chunk instead of keeping it (large WADO answers). */
  onChunk?: (chunk: Buffer) => void;
  timeoutMs?: number;
}

/**
 * One HTTP request with node's own client: streaming both ways, no buffering beyond a chunk.
 * A request that meets a kept-alive connection the server has just closed (it idled past the
 * server's keep-alive timeout) is sent again once, on a new connection, when its body can be
 * sent again — node's documented remedy (`reusedSocket`).
 */
export async function request(url: string, options: HttpRequest = {}): Promise<HttpAnswer> {
  try {
    return await requestOnce(url, options);
  } catch (err) {
    const replayable = options.body === undefined || Buffer.isBuffer(options.body);
    if (replayable && (err as { reusedSocket?: boolean }).reusedSocket && ['ECONNRESET', 'EPIPE'].includes((err as NodeJS.ErrnoException).code ?? '')) {
      return requestOnce(url, options);
    }
    throw err;
  }
}

function requestOnce(url: string, options: HttpRequest): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (Buffer.isBuffer(options.body)) headers['content-length'] = String(options.body.length);
    else if (options.contentLength !== undefined) headers['content-length'] = String(options.contentLength);
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (options.onChunk) options.onChunk(chunk);
        else chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytes }));
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 600_000, () => req.destroy(new Error(`no answer from ${url} within ${(options.timeoutMs ?? 600_000) / 1000} s`)));
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    const body = options.body;
    if (body === undefined) return void req.end();
    if (Buffer.isBuffer(body)) return void req.end(body);
    void (async () => {
      try {
        for await (const chunk of body) {
          if (!req.write(chunk)) await new Promise<void>((r) => req.once('drain', () => r()));
          if (req.destroyed) return;
        }
        req.end();
      } catch (err) {
        req.destroy(err as Error);
      }
    })();
  });
}

/** The answer as text, shortened for a one-line error. */
export const brief = (answer: HttpAnswer): string => answer.body.toString('utf8').replace(/\s+/g, ' ').slice(0, 300);
