// An independent OpenID4VP 1.0 verifier for giayto's interoperability test, built only from
// registry libraries: @openid4vc/openid4vp creates the signed request (JAR, x5c, x509_hash
// client id, direct_post.jwt) and parses the encrypted response, jose does the JOSE
// (ES256 signing, ECDH-ES decryption, KB-JWT verification), @sd-jwt/decode reads the
// SD-JWT, and dcql checks the presentation against the query.
//
// Environment: GIAYTO_VERIFIER_KEY (PKCS#8 PEM file of the verifier's leaf key),
// GIAYTO_VERIFIER_X5C (base64 DER leaf certificate), GIAYTO_DCQL (the DCQL query, JSON).
// Prints one JSON line {"invocation": "openid4vp://..."} when ready, then serves the request
// object and takes one response on 127.0.0.1; prints {"accepted": true, ...} or
// {"accepted": false, "error": ...} and exits 0 or 1. Stops by itself after 120 s.
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import { setGlobalConfig } from '@openid4vc/oauth2';
import { Openid4vpVerifier, calculateX509HashClientIdPrefixValue } from '@openid4vc/openid4vp';
import { decodeSdJwtSync, getClaimsSync } from '@sd-jwt/decode';
import { DcqlPresentationResult, DcqlQuery } from 'dcql';
import * as jose from 'jose';

// The test runs on loopback without TLS, as the wallet allows for 127.0.0.1.
setGlobalConfig({ allowInsecureUrls: true });

const leafPem = readFileSync(process.env.GIAYTO_VERIFIER_KEY, 'utf8');
const leafKey = await jose.importPKCS8(leafPem, 'ES256');
const leafPublicJwk = await jose.exportJWK(createPublicKey(leafPem));
const leafX5c = process.env.GIAYTO_VERIFIER_X5C;
const dcqlQuery = DcqlQuery.parse(JSON.parse(process.env.GIAYTO_DCQL));
DcqlQuery.validate(dcqlQuery);

const encryption = await jose.generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
const encryptionJwk = { ...(await jose.exportJWK(encryption.publicKey)), kid: 'enc-interop', use: 'enc', alg: 'ECDH-ES' };

const sha256 = (data) => new Uint8Array(createHash('sha256').update(data).digest());
const callbacks = {
  hash: (data, alg) => {
    if (alg !== 'sha-256') throw new Error(`unsupported hash ${alg}`);
    return sha256(data);
  },
  generateRandom: (n) => new Uint8Array(randomBytes(n)),
  signJwt: async (signer, { header, payload }) => {
    if (signer.method !== 'x5c') throw new Error(`unexpected signer ${signer.method}`);
    const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(leafKey);
    return { jwt, signerJwk: leafPublicJwk };
  },
  verifyJwt: async () => ({ verified: false }),
  encryptJwe: async () => { throw new Error('the verifier encrypts nothing'); },
  decryptJwe: async (jwe) => {
    try {
      const { plaintext } = await jose.compactDecrypt(jwe, encryption.privateKey);
      return { decrypted: true, decryptionJwk: encryptionJwk, payload: new TextDecoder().decode(plaintext) };
    } catch (e) {
      return { decrypted: false };
    }
  },
};

const verifier = new Openid4vpVerifier({ callbacks });
const hashOfLeaf = calculateX509HashClientIdPrefixValue
  ? await calculateX509HashClientIdPrefixValue({ x509Certificate: leafX5c, hash: callbacks.hash })
  : jose.base64url.encode(sha256(Buffer.from(leafX5c, 'base64')));
const clientId = `x509_hash:${hashOfLeaf}`;

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const nonce = jose.base64url.encode(randomBytes(16));
const state = jose.base64url.encode(randomBytes(16));

const created = await verifier.createOpenId4vpAuthorizationRequest({
  authorizationRequestPayload: {
    response_type: 'vp_token',
    client_id: clientId,
    response_mode: 'direct_post.jwt',
    response_uri: `${base}/response`,
    nonce,
    state,
    dcql_query: dcqlQuery,
    client_metadata: {
      jwks: { keys: [encryptionJwk] },
      encrypted_response_enc_values_supported: ['A128GCM'],
      vp_formats_supported: { 'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256'], 'kb-jwt_alg_values': ['ES256'] } },
    },
  },
  jar: {
    requestUri: `${base}/request`,
    jwtSigner: { method: 'x5c', x5c: [leafX5c], alg: 'ES256' },
    expiresInSeconds: 300,
  },
});
const requestObject = created.jar.authorizationRequestJwt;
const payload = created.authorizationRequestPayload;

function finish(code, result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  server.close();
  setTimeout(() => process.exit(code), 50);
}
const giveUp = setTimeout(() => finish(1, { accepted: false, error: 'no response within 120 s' }), 120_000);

/** Checks one SD-JWT+KB presentation: KB-JWT signed by cnf.jwk with our nonce and client id. */
async function checkPresentation(presentation) {
  const decoded = decodeSdJwtSync(presentation, sha256);
  const claims = getClaimsSync(decoded.jwt.payload, decoded.disclosures, sha256);
  if (!decoded.kbJwt) throw new Error('no key binding JWT');
  const holder = await jose.importJWK(decoded.jwt.payload.cnf.jwk, 'ES256');
  const kbCompact = presentation.slice(presentation.lastIndexOf('~') + 1);
  const { payload: kb, protectedHeader } = await jose.jwtVerify(kbCompact, holder, {
    audience: clientId,
    typ: 'kb+jwt',
  });
  if (kb.nonce !== nonce) throw new Error('wrong nonce in the KB-JWT');
  if (protectedHeader.alg !== 'ES256') throw new Error('KB-JWT not ES256');
  const sdJwtPart = presentation.slice(0, presentation.lastIndexOf('~') + 1);
  if (kb.sd_hash !== jose.base64url.encode(sha256(sdJwtPart))) throw new Error('wrong sd_hash');
  return { claims, vct: claims.vct };
}

server.on('request', async (req, res) => {
  try {
    if (req.method === 'GET' && req.url === '/request') {
      res.writeHead(200, { 'Content-Type': 'application/oauth-authz-req+jwt' });
      res.end(requestObject);
      return;
    }
    if (req.method === 'POST' && req.url === '/response') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = Object.fromEntries(new URLSearchParams(body));
      const parsed = await verifier.parseOpenid4vpAuthorizationResponse({
        authorizationResponse: form,
        authorizationRequestPayload: payload,
        callbacks,
      });
      const response = parsed.authorizationResponsePayload;
      if (response.state !== state) throw new Error('wrong state');
      const vpToken = verifier.parseDcqlVpToken(response.vp_token);
      const presentations = {};
      const shown = {};
      for (const [id, entries] of Object.entries(vpToken)) {
        const { claims, vct } = await checkPresentation(entries[0]);
        shown[id] = claims;
        presentations[id] = {
          credential_format: 'dc+sd-jwt',
          vct,
          claims,
          cryptographic_holder_binding: true,
        };
      }
      const result = DcqlPresentationResult.fromDcqlPresentation(presentations, { dcqlQuery });
      if (!result.can_be_satisfied) throw new Error(`the presentation does not satisfy the query: ${JSON.stringify(result)}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ redirect_uri: 'https://verifier.example/done' }));
      clearTimeout(giveUp);
      finish(0, { accepted: true, shown });
      return;
    }
    res.writeHead(404);
    res.end();
  } catch (e) {
    res.writeHead(400, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_request' }));
    clearTimeout(giveUp);
    finish(1, { accepted: false, error: String(e && e.stack || e) });
  }
});

process.stdout.write(`${JSON.stringify({ invocation: created.authorizationRequest, client_id: clientId })}\n`);
