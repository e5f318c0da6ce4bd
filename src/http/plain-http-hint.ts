import type { Server } from 'node:net';
import type { Socket } from 'node:net';

/** A TLS connection starts with a handshake record (content type 22); anything else is not TLS. */
const TLS_HANDSHAKE = 0x16;

/**
 * A plain-HTTP request on the HTTPS port (http:// instead of https://) would otherwise end in a TLS
 * error the client reports as a reset or "wrong version number". Here the first byte of each connection is
 * looked at before TLS starts: a TLS handshake goes on to the HTTPS server as usual; anything else gets one
 * plain-text line saying to use https, and the connection is closed.
 */
export function answerPlainHttp(server: Server, origin: () => string): void {
  // The TLS server's own 'connection' listeners wrap the socket in TLS; they run after the peek instead.
  const tlsListeners = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    // A client that connects and sends nothing holds nothing here for long (TLS clients speak first).
    socket.setTimeout(10_000, () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      if (chunk[0] === TLS_HANDSHAKE) {
        socket.unshift(chunk);
        for (const listener of tlsListeners) listener.call(server, socket);
        setImmediate(() => socket.resume());
        return;
      }
      const text = `This port speaks HTTPS: use ${origin()} (https://, not http://).\n`;
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      );
    });
    socket.on('error', () => socket.destroy());
  });
}

/**
 * A client that does not trust the local CA aborts the TLS handshake with an "unknown CA" or "bad
 * certificate" alert, and reports only a generic error on its side. Say why here, where it can be read.
 */
export function logTlsRefusals(server: Server, log: TlsLog, caPath: string | undefined): void {
  server.on('tlsClientError', (err: Error & { code?: string }) => {
    if (!logIfCertificateRefused(err, log, caPath) && err.code !== 'ECONNRESET') {
      log.info({ reason: err.code ?? err.message }, 'a TLS handshake failed');
    }
  });
}

type TlsLog = { info(obj: object, msg: string): void };

/**
 * Logs a client's "I do not trust this certificate" alert; returns whether the error was one. With TLS 1.3
 * the alert arrives after the server finished its side of the handshake, so it surfaces as a client error
 * of the HTTP server (app.ts passes those here too) rather than as tlsClientError.
 */
export function logIfCertificateRefused(err: Error & { code?: string }, log: TlsLog, caPath: string | undefined): boolean {
  const code = err.code ?? '';
  if (!/UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN/.test(code)) return false;
  log.info(
    { reason: code },
    `a client refused this server's certificate (it does not trust the CA${caPath ? `: give it ${caPath}, e.g. NODE_EXTRA_CA_CERTS=${caPath}` : ''})`,
  );
  return true;
}
