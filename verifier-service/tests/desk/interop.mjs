// An independent OpenID4VP 1.0 wallet (npm's @openid4vc/openid4vp, with the `jose` package for
// JOSE and Node's crypto for X.509) answers the giayto verifier, for
// verifier-service/tests/interop_npm.rs. The library parses the invocation URI, fetches the
// request object by request_uri, checks the x509_hash client identifier against the x5c leaf
// and the JAR signature (our callback also validates the chain to the registrar CA), then
// builds the direct_post.jwt response, encrypts it (ECDH-ES to the request's key, with the
// apu/apv it chooses) and posts it. It does not make SD-JWT presentations: the Rust test
// makes the presentation with giayto-core for the client_id and nonce this library resolved.
//
// Usage: node interop.mjs INVOCATION_URI REGISTRAR_CA_PEM
// stdout -> "REQUEST <json {client_id, nonce, credential_id, prefix}>"
// stdin  <- "<SD-JWT VC presentation with KB-JWT>"
// stdout -> "SUBMITTED <HTTP status> <body>"
import { Openid4vpClient } from "@openid4vc/openid4vp";
import { setGlobalConfig } from "@openid4vc/utils";
import * as jose from "jose";
import { X509Certificate, createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const [invocation, caPath] = process.argv.slice(2);
// The test serves on loopback without TLS; the library asks for https otherwise.
setGlobalConfig({ allowInsecureUrls: true });
// The Rust test's world lives at a fixed time (its documents, lists and request were made
// then): the library's clock (iat/exp checks of the request object) is set to it.
if (process.env.GIAYTO_TEST_NOW) {
  const RealDate = Date;
  const offset = Number(process.env.GIAYTO_TEST_NOW) * 1000 - RealDate.now();
  globalThis.Date = class extends RealDate {
    constructor(...args) { if (args.length === 0) super(RealDate.now() + offset); else super(...args); }
    static now() { return RealDate.now() + offset; }
  };
}
const registrar = new X509Certificate(readFileSync(caPath));
const reader = createInterface({ input: process.stdin });
const lines = reader[Symbol.asyncIterator]();

const callbacks = {
  fetch: (...args) => fetch(...args),
  hash: (data, alg) => {
    if (alg !== "sha-256") throw new Error(`hash ${alg} not used here`);
    return new Uint8Array(createHash("sha256").update(data).digest());
  },
  getX509CertificateMetadata: (certificate) => {
    const cert = new X509Certificate(Buffer.from(certificate, "base64"));
    const names = (cert.subjectAltName || "").split(", ");
    return {
      sanDnsNames: names.filter((n) => n.startsWith("DNS:")).map((n) => n.slice(4)),
      sanUriNames: names.filter((n) => n.startsWith("URI:")).map((n) => n.slice(4)),
    };
  },
  // The JAR: verified with the x5c leaf's key, after the chain is validated to the
  // registrar CA (the trust anchor a wallet gets from the trust list; never in x5c).
  verifyJwt: async (signer, jwt) => {
    if (signer.method !== "x5c") return { verified: false };
    const chain = signer.x5c.map((c) => new X509Certificate(Buffer.from(c, "base64")));
    for (const cert of chain) {
      if (cert.fingerprint256 === registrar.fingerprint256) throw new Error("x5c holds the trust anchor");
      if (cert.verify(cert.publicKey)) throw new Error("x5c holds a self-signed certificate");
    }
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!chain[i].verify(chain[i + 1].publicKey)) throw new Error("broken x5c chain");
    }
    if (!chain[chain.length - 1].verify(registrar.publicKey)) return { verified: false };
    const key = chain[0].publicKey;
    try {
      await jose.compactVerify(jwt.compact, key, { algorithms: ["ES256"] });
    } catch {
      return { verified: false };
    }
    return { verified: true, signerJwk: key.export({ format: "jwk" }) };
  },
  encryptJwe: async (encryptor, data) => {
    const key = await jose.importJWK(encryptor.publicJwk, encryptor.alg);
    const builder = new jose.CompactEncrypt(new TextEncoder().encode(data)).setProtectedHeader({
      alg: encryptor.alg,
      enc: encryptor.enc,
      kid: encryptor.publicJwk.kid,
    });
    const params = {};
    if (encryptor.apu) params.apu = jose.base64url.decode(encryptor.apu);
    if (encryptor.apv) params.apv = jose.base64url.decode(encryptor.apv);
    builder.setKeyManagementParameters(params);
    return { jwe: await builder.encrypt(key), encryptionJwk: encryptor.publicJwk };
  },
  signJwt: () => { throw new Error("the wallet signs nothing here"); },
  decryptJwe: () => { throw new Error("the request is not encrypted"); },
};

const client = new Openid4vpClient({ callbacks });
try {
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: invocation });
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: parsed.params,
  });
  const request = resolved.authorizationRequestPayload;
  const credentialId = request.dcql_query.credentials[0].id;
  console.log(`REQUEST ${JSON.stringify({
    client_id: request.client_id,
    nonce: request.nonce,
    credential_id: credentialId,
    prefix: resolved.client.prefix,
    version: resolved.version,
  })}`);
  const { value: presentation } = await lines.next();
  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: { vp_token: { [credentialId]: [presentation.trim()] } },
    jarm: {
      encryption: { nonce: jose.base64url.encode(randomBytes(16)) },
      serverMetadata: {
        authorization_signing_alg_values_supported: ["ES256"],
        authorization_encryption_alg_values_supported: ["ECDH-ES"],
        authorization_encryption_enc_values_supported: ["A128GCM", "A256GCM"],
      },
    },
  });
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: response.authorizationResponsePayload,
    jarm: response.jarm ? { responseJwt: response.jarm.responseJwt } : undefined,
  });
  console.log(`SUBMITTED ${submitted.response.status} ${await submitted.response.text()}`);
} finally {
  reader.close();
}
