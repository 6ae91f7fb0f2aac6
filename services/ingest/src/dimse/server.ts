import { createServer, type Server, type Socket } from 'node:net';
import { log as dimseLog } from 'dcmjs-dimse';
import type { Logger } from '@hub/shared/log';
import { scpFor, type ScpDeps } from './scp';

export interface DimseServer {
  port: number;
  /** Stops accepting associations; open ones get `graceMs` to finish, then are cut. */
  close(graceMs: number): Promise<void>;
}

export interface DimseServerOptions extends Omit<ScpDeps, 'maxPduLength'> {
  host: string;
  port: number;
  maxPduLength?: number;
  log: Logger;
}

// dcmjs-dimse logs through its own console logger; failures reach us as 'networkError' events.
dimseLog.setLevel('silent');

/**
 * The C-STORE / C-ECHO SCP. dcmjs-dimse's Server listens on every interface; this one binds
 * the configured host, keeps count of open associations, and drains them on shutdown.
 */
export function startDimseServer(options: DimseServerOptions): Promise<DimseServer> {
  const HubScp = scpFor({ ...options, maxPduLength: options.maxPduLength ?? 256 * 1024 });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const scp = new HubScp(socket, { associationTimeout: 30_000, pduTimeout: 120_000 });
    // As dcmjs-dimse's own Server does, plus the start time its association timeout counts from.
    Object.assign(scp, { connected: true, connectedTime: Date.now() });
    scp.on('networkError', (err: Error) => {
      options.log.warn({ peer: socket.remoteAddress, err: err.message }, 'DICOM connection error');
      socket.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      server.on('error', (err) => options.log.error({ err }, 'DICOM listener error'));
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : options.port,
        close: (graceMs) =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => {
              for (const s of sockets) s.destroy();
            }, graceMs);
            timer.unref();
            server.close(() => {
              clearTimeout(timer);
              done();
            });
          }),
      });
    });
  });
}
