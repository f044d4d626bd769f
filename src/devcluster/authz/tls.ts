/**
 * HTTPS beside plain HTTP on the control plane's one port. kubectl (client-go) sends credentials —
 * bearer tokens — only to an `https://` server, so this is what lets `kubectl --token …` (and any
 * kubeconfig for a service account) reach the control plane as that account. The first byte of a
 * connection tells a TLS handshake (0x16) from an HTTP request; TLS connections go to an
 * https.Server with the same handler and a self-signed certificate for 127.0.0.1/localhost, made
 * on the first TLS connection (clients use `insecure-skip-tls-verify`, as the kubeconfig says).
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';

const TLS_HANDSHAKE = 0x16;

async function certificate(): Promise<{ key: string; cert: string }> {
  const { generate } = await import('selfsigned');
  const notBeforeDate = new Date(Date.now() - 3_600_000);
  const pems = await generate([{ name: 'commonName', value: 'nimop-dev' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/**
 * Makes `server` (an http.Server, before it listens) also accept TLS connections on its port;
 * `closeAllConnections()` then closes those too.
 */
export function acceptTls(server: Server, handler: (req: IncomingMessage, res: ServerResponse) => void): void {
  const plain = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  let tls: Promise<HttpsServer> | undefined;
  const secure = new Set<Socket>();
  // Connections whose first byte has not arrived yet belong to neither server: close them too, or
  // server.close() would wait for them forever.
  const unclassified = new Set<Socket>();
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAll();
    for (const s of secure) s.destroy();
    for (const s of unclassified) s.destroy();
  };
  server.on('connection', (socket: Socket) => {
    unclassified.add(socket);
    socket.once('close', () => unclassified.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      unclassified.delete(socket);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] !== TLS_HANDSHAKE) {
        for (const l of plain) l.call(server, socket);
        socket.resume();
        return;
      }
      secure.add(socket);
      socket.once('close', () => secure.delete(socket));
      tls ??= certificate().then((c) => {
        const s = createHttpsServer(c, handler as RequestListener);
        s.keepAliveTimeout = server.keepAliveTimeout;
        return s;
      });
      tls.then(
        (s) => {
          s.emit('connection', socket);
          socket.resume();
        },
        () => socket.destroy(),
      );
    });
  });
}
