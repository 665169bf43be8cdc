// The reference for `npm run bench`: the least an HTTP server on this machine can do per request (read the
// request, answer a fixed body). Each scenario's rate is also printed as a ratio to this server's rate for the
// same requests from the same client.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = JSON.stringify({ 'm2m:cin': { con: 'reference' } });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-M2M-RSC': '2000', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`reference listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
