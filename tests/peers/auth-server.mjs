// OAuth 2.0 / SMART authorization-server peer for Techo's sync tests.
//
// The server is oauth2-mock-server (third party, from npm): its OAuth2Service serves
// /authorize, /token, /jwks, /.well-known/openid-configuration, /userinfo, /revoke and
// /introspect, and its OAuth2Issuer signs the JWTs (RS256 key generated at start). This file
// wraps it with what a hospital's SMART authorization server does and the library does not:
//   * /authorize auto-approves (no login page) but REQUIRES PKCE S256 and a known client;
//   * authorization codes are single-use, expire, and are bound to client_id, redirect_uri and
//     the PKCE challenge (S256 of code_verifier checked here; the library checks it too);
//   * token responses carry `patient`, the granted `scope`, `expires_in` = --access-ttl, and a
//     refresh token only when offline_access/online_access was granted;
//   * refresh tokens are opaque, tracked, rotated on every use, and revocable;
//   * /__admin/revoke, /__admin/log, /__admin/log/clear for tests;
//   * /__admin/issued (test-only, loopback clients only): every token this process issued, so a
//     test can search the client's disk and output for them. The tokens are synthetic.
//
// Usage: node auth-server.mjs [--port 0] [--patient ID] [--access-ttl SECONDS] [--client-id ID]
// Prints exactly one stdout line when ready: `LISTENING http://127.0.0.1:PORT` (the issuer URL).
// Never prints tokens, codes or verifiers.

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createHash, randomBytes } from 'node:crypto';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';

const CODE_TTL_MS = 120_000;
const MAX_BODY = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Command line

function usage(message) {
  if (message) process.stderr.write(`auth-server: ${message}\n`);
  process.stderr.write(
    'usage: node auth-server.mjs [--port N] [--patient ID] [--access-ttl SECONDS] [--client-id ID] [--client-jwks FILE]\n'
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { port: 0, patient: undefined, accessTtl: 3600, clientId: undefined, clientJwks: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--port': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 65535) usage(`bad --port ${v}`);
        opts.port = Number(v);
        break;
      }
      case '--patient': {
        const v = value();
        if (!/^[A-Za-z0-9\-.]{1,64}$/.test(v)) usage('bad --patient (a FHIR id)');
        opts.patient = v;
        break;
      }
      case '--access-ttl': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) < 1) usage(`bad --access-ttl ${v}`);
        opts.accessTtl = Number(v);
        break;
      }
      case '--client-id':
        opts.clientId = value();
        break;
      case '--client-jwks':
        // A confidential client (SMART private_key_jwt): token requests must carry a client
        // assertion signed by a key of this JWKS file (read at each request, so a test can
        // write it after the server started).
        opts.clientJwks = value();
        break;
      case '-h':
      case '--help':
        usage();
        break;
      default:
        usage(`unknown argument ${arg}`);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// State

/** code -> { clientId, redirectUri, challenge, scope, aud, expiresAt } */
const codes = new Map();
/** refresh token -> { clientId, scope, aud } */
const refreshTokens = new Map();
/** [{ grant_type, ok }] per token request */
const tokenLog = [];
/** Every token issued by this process (test-only, see GET /__admin/issued). */
const issued = { access_tokens: [], refresh_tokens: [], id_tokens: [] };

const b64url = (buf) => buf.toString('base64url');
const sha256 = (s) => createHash('sha256').update(s, 'ascii').digest();
const PKCE_RE = /^[A-Za-z0-9\-._~]{43,128}$/;
const scopesOf = (s) => (s ?? '').split(' ').filter(Boolean);

// ---------------------------------------------------------------------------------------------
// The library, with hooks that apply the per-request context computed by the wrapper

const issuer = new OAuth2Issuer(false);
await issuer.keys.generate('RS256');
const service = new OAuth2Service(issuer);

service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const ctx = req.techo;
  const code = redirect.url.searchParams.get('code');
  if (!ctx || !code) return;
  codes.set(code, { ...ctx, expiresAt: Date.now() + CODE_TTL_MS });
});

service.on('beforeTokenSigning', (token, req) => {
  const ctx = req.techo;
  if (!ctx) return;
  const p = token.payload;
  p.exp = p.iat + opts.accessTtl;
  if ('scope' in p) {
    // the access token
    p.scope = ctx.scope;
    p.client_id = ctx.clientId;
    if (opts.patient) p.patient = opts.patient;
    if (ctx.aud) p.aud = ctx.aud;
  } else if (opts.patient && scopesOf(ctx.scope).includes('fhirUser')) {
    // the id_token
    p.fhirUser = `Patient/${opts.patient}`;
  }
});

service.on('beforeResponse', (response, req) => {
  const ctx = req.techo;
  if (!ctx || response.statusCode !== 200) return;
  const body = response.body;
  const granted = scopesOf(ctx.scope);
  body.token_type = 'Bearer';
  body.expires_in = opts.accessTtl;
  body.scope = ctx.scope;
  if (opts.patient) body.patient = opts.patient;
  if (!granted.includes('openid')) delete body.id_token;
  delete body.refresh_token; // the library's is an untracked random UUID
  if (granted.includes('offline_access') || granted.includes('online_access')) {
    const refresh = b64url(randomBytes(32));
    refreshTokens.set(refresh, { clientId: ctx.clientId, scope: ctx.scope, aud: ctx.aud });
    body.refresh_token = refresh;
    issued.refresh_tokens.push(refresh);
  }
  if (typeof body.access_token === 'string') issued.access_tokens.push(body.access_token);
  if (typeof body.id_token === 'string') issued.id_tokens.push(body.id_token);
});

// ---------------------------------------------------------------------------------------------
// HTTP

function sendJson(res, status, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    ...headers,
  });
  res.end(payload);
}

const oauthError = (res, status, error, description) =>
  sendJson(res, status, { error, error_description: description });

function redirectError(res, redirectUri, state, error, description) {
  const url = new URL(redirectUri);
  url.searchParams.set('error', error);
  url.searchParams.set('error_description', description);
  if (state) url.searchParams.set('state', state);
  res.writeHead(302, { Location: url.href, 'Cache-Control': 'no-store' });
  res.end();
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Form body → plain object; undefined when a parameter is repeated (RFC 6749 §3.1). */
function parseForm(text) {
  const out = {};
  for (const [k, v] of new URLSearchParams(text)) {
    if (k in out) return undefined;
    out[k] = v;
  }
  return out;
}

function handleAuthorize(req, res, url) {
  const q = url.searchParams;
  for (const k of new Set(q.keys())) {
    if (q.getAll(k).length > 1) return oauthError(res, 400, 'invalid_request', `repeated parameter ${k}`);
  }
  const clientId = q.get('client_id');
  const redirectUri = q.get('redirect_uri');
  const state = q.get('state') ?? undefined;
  // Errors about the client or redirect_uri are not redirected (RFC 6749 §4.1.2.1).
  if (!clientId) return oauthError(res, 400, 'invalid_request', 'client_id is required');
  if (opts.clientId !== undefined && clientId !== opts.clientId) {
    return oauthError(res, 400, 'unauthorized_client', 'unknown client_id');
  }
  if (!redirectUri) return oauthError(res, 400, 'invalid_request', 'redirect_uri is required');
  try {
    new URL(redirectUri);
  } catch {
    return oauthError(res, 400, 'invalid_request', 'redirect_uri is not an absolute URI');
  }
  if (q.get('response_type') !== 'code') {
    return redirectError(res, redirectUri, state, 'unsupported_response_type', 'only response_type=code');
  }
  const challenge = q.get('code_challenge');
  const method = q.get('code_challenge_method');
  if (method !== 'S256') {
    return redirectError(res, redirectUri, state, 'invalid_request', 'code_challenge_method=S256 is required');
  }
  if (!challenge || !/^[A-Za-z0-9\-_]{43}$/.test(challenge)) {
    return redirectError(res, redirectUri, state, 'invalid_request', 'code_challenge (S256, 43 chars) is required');
  }
  req.techo = {
    clientId,
    redirectUri,
    challenge,
    scope: q.get('scope') || 'launch/patient patient/*.read',
    aud: q.get('aud') ?? undefined,
  };
  service.requestHandler(req, res); // the library issues the code and redirects
}

async function handleToken(req, res) {
  let grantType = null;
  res.on('finish', () => tokenLog.push({ grant_type: grantType, ok: res.statusCode === 200 }));
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    return oauthError(res, 400, 'invalid_request', 'body must be application/x-www-form-urlencoded');
  }
  let body;
  try {
    body = parseForm(await readBody(req));
  } catch (err) {
    return oauthError(res, 400, 'invalid_request', err.message);
  }
  if (!body) return oauthError(res, 400, 'invalid_request', 'repeated parameter');
  grantType = body.grant_type ?? null;
  if (req.headers.authorization) {
    return oauthError(res, 400, 'invalid_request', 'public clients only: no client authentication');
  }
  const clientId = body.client_id;
  if (!clientId) return oauthError(res, 400, 'invalid_request', 'client_id is required');
  if (opts.clientId !== undefined && clientId !== opts.clientId) {
    return oauthError(res, 401, 'invalid_client', 'unknown client_id');
  }
  if (opts.clientJwks !== undefined) {
    const refused = await checkClientAssertion(req, body, clientId);
    if (refused) return oauthError(res, 401, 'invalid_client', refused);
  } else if (body.client_assertion !== undefined) {
    return oauthError(res, 400, 'invalid_request', 'public clients only: no client_assertion');
  }

  if (grantType === 'authorization_code') {
    const code = body.code;
    if (!code) return oauthError(res, 400, 'invalid_request', 'code is required');
    const bound = codes.get(code);
    codes.delete(code); // single use, whatever happens next
    if (!bound || bound.expiresAt < Date.now()) {
      return oauthError(res, 400, 'invalid_grant', 'authorization code is invalid, expired or already used');
    }
    if (bound.clientId !== clientId) return oauthError(res, 400, 'invalid_grant', 'code was issued to another client');
    if (body.redirect_uri !== bound.redirectUri) {
      return oauthError(res, 400, 'invalid_grant', 'redirect_uri does not match the authorization request');
    }
    const verifier = body.code_verifier;
    if (!verifier || !PKCE_RE.test(verifier)) {
      return oauthError(res, 400, 'invalid_grant', 'code_verifier is missing or malformed');
    }
    if (b64url(sha256(verifier)) !== bound.challenge) {
      return oauthError(res, 400, 'invalid_grant', 'code_verifier does not match code_challenge');
    }
    req.techo = { clientId, scope: bound.scope, aud: bound.aud };
  } else if (grantType === 'refresh_token') {
    const token = body.refresh_token;
    if (!token) return oauthError(res, 400, 'invalid_request', 'refresh_token is required');
    const stored = refreshTokens.get(token);
    if (!stored) return oauthError(res, 400, 'invalid_grant', 'refresh token is invalid, revoked or already used');
    if (stored.clientId !== clientId) {
      return oauthError(res, 400, 'invalid_grant', 'refresh token was issued to another client');
    }
    let scope = stored.scope;
    if (body.scope) {
      const allowed = new Set(scopesOf(stored.scope));
      const wanted = scopesOf(body.scope);
      if (!wanted.every((s) => allowed.has(s))) {
        return oauthError(res, 400, 'invalid_scope', 'requested scope exceeds the original grant');
      }
      scope = wanted.join(' ');
    }
    refreshTokens.delete(token); // rotation: one use only
    req.techo = { clientId, scope, aud: stored.aud };
  } else if (!grantType) {
    return oauthError(res, 400, 'invalid_request', 'grant_type is required');
  } else {
    return oauthError(res, 400, 'unsupported_grant_type', 'only authorization_code and refresh_token');
  }
  // The library signs the tokens; the hooks above shape them from req.techo.
  req.body = body;
  service.requestHandler(req, res);
}

/** Assertion ids already used (RFC 7523: a jti is accepted once). */
const seenJti = new Set();

/**
 * SMART private_key_jwt (RFC 7523): verifies the client assertion with jose against the
 * registered JWKS. Returns why it is refused, or null. Never echoes the assertion.
 */
async function checkClientAssertion(req, body, clientId) {
  if (body.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    return 'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
  }
  if (typeof body.client_assertion !== 'string') return 'client_assertion is required';
  let jwks;
  try {
    jwks = createLocalJWKSet(JSON.parse(readFileSync(opts.clientJwks, 'utf8')));
  } catch {
    return 'no client key is registered';
  }
  const tokenUrl = `${issuer.url}/token`;
  try {
    const { payload } = await jwtVerify(body.client_assertion, jwks, {
      issuer: clientId,
      subject: clientId,
      audience: tokenUrl,
      algorithms: ['ES384', 'RS384'],
      requiredClaims: ['exp', 'jti'],
      maxTokenAge: '5m',
    });
    if (payload.exp - (payload.iat ?? Math.floor(Date.now() / 1000)) > 300) return 'client assertion lives longer than 5 minutes';
    if (seenJti.has(payload.jti)) return 'client assertion was already used (jti)';
    seenJti.add(payload.jti);
    return null;
  } catch (err) {
    // The reason only (a jose error code and its claim), never the assertion.
    process.stderr.write(`auth-server: client assertion refused: ${err.code ?? 'invalid'} ${err.claim ?? ''}\n`);
    return `client assertion refused (${err.code ?? 'invalid'})`;
  }
}

async function handleRevoke(req, res) {
  let body;
  try {
    body = parseForm(await readBody(req)) ?? {};
  } catch (err) {
    return oauthError(res, 400, 'invalid_request', err.message);
  }
  if (body.token) refreshTokens.delete(body.token);
  req.body = body;
  service.requestHandler(req, res);
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const route = `${req.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
  switch (route) {
    case 'GET /authorize':
      return handleAuthorize(req, res, url);
    case 'POST /token':
      return handleToken(req, res);
    case 'POST /revoke':
      return handleRevoke(req, res);
    case 'POST /__admin/revoke': {
      const revoked = refreshTokens.size;
      refreshTokens.clear();
      return sendJson(res, 200, { revoked });
    }
    case 'GET /__admin/log':
      return sendJson(res, 200, tokenLog);
    case 'POST /__admin/log/clear':
      tokenLog.length = 0;
      return sendJson(res, 200, { cleared: true });
    case 'GET /__admin/issued': {
      // Test-only: the tokens themselves, so a test can prove the client never wrote them down.
      // The server listens on 127.0.0.1 only; refuse anything else all the same.
      const peer = req.socket.remoteAddress ?? '';
      if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(peer)) {
        return sendJson(res, 403, { error: 'forbidden', error_description: 'loopback clients only' });
      }
      return sendJson(res, 200, issued);
    }
    default:
      if (url.pathname.startsWith('/__admin/')) {
        return sendJson(res, 404, { error: 'not_found', error_description: `no admin route ${route}` });
      }
      return service.requestHandler(req, res); // jwks, openid-configuration, userinfo, ...
  }
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    process.stderr.write(`auth-server: internal error: ${err?.message ?? err}\n`);
    if (!res.headersSent) oauthError(res, 500, 'server_error', 'internal error');
    else res.destroy();
  });
});
server.on('error', (err) => {
  process.stderr.write(`auth-server: ${err.message}\n`);
  process.exit(1);
});
server.listen(opts.port, '127.0.0.1', () => {
  issuer.url = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(`LISTENING ${issuer.url}\n`);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
