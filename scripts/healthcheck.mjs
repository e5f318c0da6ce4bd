// The container's HEALTHCHECK (see Dockerfile): exit 0 when GET /_emulator/health answers 200 on this
// container's own port, 1 otherwise. The request goes to the loopback interface, so the certificate is not
// checked here (clients check it; this only asks whether the service is ready). No dependency: the image
// has no curl.
import http from 'node:http';
import https from 'node:https';

const tls = (process.env.TLS ?? 'on').trim().toLowerCase() !== 'off';
const port = Number(process.env.PORT || 8443);
const client = tls ? https : http;
const request = client.get({ host: '127.0.0.1', port, path: '/_emulator/health', timeout: 4000, rejectUnauthorized: false }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (err) => {
  process.stderr.write(`health check failed: ${err.message}\n`);
  process.exit(1);
});
