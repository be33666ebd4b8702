// A token realm for docker-registry's "auth: token" (t/integ/registry_env.sh).
// Issues RS256 JWTs whose x5c header carries the signing certificate, which
// the registry trusts through rootcertbundle.  One user (TOKEN_USER /
// TOKEN_PASS): it gets every action it asks for; anonymous gets pull only
// on repositories under "public/".  GET (Basic or anonymous) and POST
// (oauth2 password form) are served; every request is appended to LOG.
// Only node's built-in modules.  usage: node token_server.js PORT KEY CERT LOG
'use strict';
const https = require('https');
const fs = require('fs');
const crypto = require('crypto');

const [port, keyFile, certFile, logFile] = process.argv.slice(2);
const key = fs.readFileSync(keyFile);
const cert = fs.readFileSync(certFile);
const certDer = new crypto.X509Certificate(cert).raw.toString('base64');
const user = process.env.TOKEN_USER || 'alice';
const pass = process.env.TOKEN_PASS || 'secret';
const issuer = 'test-issuer';

const b64u = (b) => Buffer.from(b).toString('base64url');

function sign(service, access) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer] };
  const claims = { iss: issuer, sub: 'test', aud: service, exp: now + 300, nbf: now - 10,
                   iat: now, jti: crypto.randomBytes(8).toString('hex'), access };
  const input = b64u(JSON.stringify(header)) + '.' + b64u(JSON.stringify(claims));
  return input + '.' + b64u(crypto.sign('sha256', Buffer.from(input), key));
}

function grant(scopes, authed) {
  const access = [];
  for (const s of scopes) {
    const m = /^repository:([^:]+):(.+)$/.exec(s);
    if (!m) continue;
    let actions = m[2].split(',');
    if (!authed) actions = m[1].startsWith('public/') ? actions.filter((a) => a === 'pull') : [];
    access.push({ type: 'repository', name: m[1], actions });
  }
  return access;
}

function reply(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

https.createServer({ key: fs.readFileSync(process.env.TLS_KEY), cert: fs.readFileSync(process.env.TLS_CERT) },
  (req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; if (body.length > 65536) req.destroy(); });
    req.on('end', () => {
      const u = new URL(req.url, 'https://x');
      fs.appendFileSync(logFile, `${req.method} ${u.pathname} auth=${req.headers.authorization ? 'basic' : 'none'}\n`);
      let authed = false, bad = false, scopes = u.searchParams.getAll('scope');
      let service = u.searchParams.get('service');
      if (req.method === 'POST') {
        const f = new URLSearchParams(body);
        service = f.get('service');
        scopes = (f.get('scope') || '').split(' ').filter(Boolean);
        if (f.get('grant_type') !== 'password') return reply(res, 400, { error: 'unsupported_grant_type' });
        authed = f.get('username') === user && f.get('password') === pass;
        bad = !authed;
      } else if (req.headers.authorization) {
        const m = /^Basic (.+)$/.exec(req.headers.authorization);
        const [u2, p2] = m ? Buffer.from(m[1], 'base64').toString().split(/:(.*)/s) : [];
        authed = u2 === user && p2 === pass;
        bad = !authed;
      }
      if (bad) return reply(res, 401, { error: 'invalid credentials' });
      const token = sign(service, grant(scopes, authed));
      if (req.method === 'POST') reply(res, 200, { access_token: token, expires_in: 300 });
      else reply(res, 200, { token, expires_in: 300 });
    });
  }).listen(Number(port), '127.0.0.1');
