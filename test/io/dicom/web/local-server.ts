/** A throw-away HTTP server on a free loopback port, for answers a real PACS will not give on demand. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface LocalServer {
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

export function localServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<LocalServer> {
  const server = createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      const port = a !== null && typeof a === 'object' ? a.port : 0;
      resolve({
        origin: `http://127.0.0.1:${port}`,
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

/** The request body, whole. */
export async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
