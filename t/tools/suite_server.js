// A read-only, one-image registry over HTTPS that speaks exactly one TLS
// 1.2 cipher suite (OpenSSL's, through node), for t/integ/tls_suites.sh:
// it shows which suites our client can use, which one it asks for first,
// and that a record altered on the wire is refused by the record layer.
// DIR holds manifest.json and blobs/<hex>; every connection's negotiated
// suite is appended to LOG.  SUITE "" lets OpenSSL choose, following the
// client's preference.  With FLIP (a byte offset) the server is reached
// through a TCP relay on PORT that flips one bit of the server-to-client
// stream at that offset (the TLS server listens on another port).
// Only node's built-in modules.
// usage: node suite_server.js PORT KEY CERT DIR LOG SUITE [FLIP]
'use strict';
const https = require('https');
const net = require('net');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const [port, keyFile, certFile, dir, logFile, suite, flip] = process.argv.slice(2);
const manifest = fs.readFileSync(path.join(dir, 'manifest.json'));
const sha = (b) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');

const opts = { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile),
               minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
// Without a suite, OpenSSL picks by the client's order (node's default
// may prefer the server's).
if (suite) opts.ciphers = suite;
else opts.honorCipherOrder = false;

function send(res, type, body) {
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length,
                       'Docker-Content-Digest': sha(body) });
  res.end(body);
}

const srv = https.createServer(opts, (req, res) => {
  fs.appendFileSync(logFile, req.socket.getCipher().standardName + '\n');
  const m = /^\/v2\/[a-z0-9/]+\/(manifests\/[a-z0-9.]+|blobs\/sha256:([0-9a-f]{64}))$/.exec(req.url);
  if (req.url === '/v2/') return send(res, 'application/json', Buffer.from('{}'));
  if (m && m[1].startsWith('manifests/'))
    return send(res, 'application/vnd.oci.image.manifest.v1+json', manifest);
  if (m && m[2] && fs.existsSync(path.join(dir, 'blobs', m[2])))
    return send(res, 'application/octet-stream', fs.readFileSync(path.join(dir, 'blobs', m[2])));
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end('{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}');
});

if (!flip) {
  srv.listen(+port, '127.0.0.1');
} else {
  srv.listen(0, '127.0.0.1', () => {
    net.createServer((c) => {
      const s = net.connect(srv.address().port, '127.0.0.1');
      let seen = 0;
      s.on('data', (b) => {
        const at = +flip - seen;
        if (at >= 0 && at < b.length) b[at] ^= 0x01;
        seen += b.length;
        c.write(b);
      });
      c.pipe(s);
      s.on('close', () => c.destroy());
      c.on('close', () => s.destroy());
      s.on('error', () => c.destroy());
      c.on('error', () => s.destroy());
    }).listen(+port, '127.0.0.1');
  });
}
