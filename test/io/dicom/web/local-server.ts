/**
 * Throw-away HTTP(S) servers on a free loopback port: answers a real PACS will not give on demand, a TLS
 * front and a bearer-token check before the test Orthanc (see orthanc.ts for why not Orthanc's own TLS).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

export interface LocalServer {
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A server with `handler`; HTTPS with `tls` (PEM key and certificate). */
export function localServer(handler: Handler, tls?: { key: string; cert: string }): Promise<LocalServer> {
  const server = tls === undefined ? createServer(handler) : createHttpsServer(tls, handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      const port = a !== null && typeof a === 'object' ? a.port : 0;
      resolve({
        origin: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => {
              done();
            });
          }),
      });
    });
  });
}

/** Passes the request on to `origin` (plain HTTP) and its answer back; `authorization` replaces the client's. */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  origin: string,
  authorization?: string,
): void {
  const headers = { ...req.headers, host: new URL(origin).host };
  if (authorization !== undefined) headers.authorization = authorization;
  const upstream = httpRequest(`${origin}${req.url ?? '/'}`, { method: req.method, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on('error', (e) => res.writeHead(502).end(e.message));
  req.pipe(upstream);
}
