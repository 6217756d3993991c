// Shared plumbing for the Node interoperability tests: running the `souverain` binary, Ed25519 keys
// and signatures through Node's crypto and `jose`, and SD-JWT VC instances of @sd-jwt/sd-jwt-vc.
import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign as edSign } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactVerify } from 'jose';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';

export const BIN = process.env.SOUVERAIN_BIN || fileURLToPath(new URL('../../target/debug/souverain', import.meta.url));

/** Both JOSE names for Ed25519: the original one (RFC 8037) and the fully specified one (RFC 9864). */
export const ED25519_ALGS = ['EdDSA', 'Ed25519'];

/** The user claims every test issues: flat claims, a nested object with its own disclosable members, an array. */
export const CLAIMS = {
  given_name: 'Marie',
  family_name: 'Dupont',
  birthdate: '1990-04-12',
  address: { street_address: '3 rue de la Mairie', locality: 'Saint-Martin', postal_code: '38000' },
  nationalities: ['FR', 'DE'],
};
export const ISS = 'https://mairie.example.fr';
export const VCT = 'https://mairie.example.fr/vct/resident';

/** Runs souverain; returns exit code, raw stdout/stderr and stdout parsed as JSON when it is JSON. */
export function souverain(args, input) {
  const r = spawnSync(BIN, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`cannot run ${BIN}: ${r.error.message}`);
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/** Runs souverain and insists on success (exit 0, empty-or-not stderr ignored). */
export function souverainOk(args, input) {
  const r = souverain(args, input);
  if (r.code !== 0) {
    throw new Error(`souverain ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
  }
  return r;
}

/** Fails loudly (never skips) when the binary or one of the subcommands the tests need is missing. */
export function requireBinary() {
  if (!existsSync(BIN)) throw new Error(`souverain binary not found at ${BIN} (set SOUVERAIN_BIN)`);
  const help = spawnSync(BIN, ['--help'], { encoding: 'utf8' }).stdout || '';
  for (const sub of ['keygen', 'pubkey', 'issue', 'present', 'verify']) {
    if (!new RegExp(`^\\s+${sub}\\b`, 'm').test(help)) {
      throw new Error(`souverain has no \`${sub}\` subcommand yet; --help says:\n${help}`);
    }
  }
}

/** True when `souverain <sub> --help` documents the flag (used for the optional `--alg`). */
export function hasFlag(sub, flag) {
  const r = spawnSync(BIN, [sub, '--help'], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.includes(flag);
}

/** A fresh temporary directory and a function that writes a file into it and returns its path. */
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'souverain-interop-'));
  return {
    dir,
    write(name, content) {
      const p = join(dir, name);
      writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
      return p;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const b64u = (buf) => Buffer.from(buf).toString('base64url');
export const unb64u = (s) => Buffer.from(s, 'base64url');
export const decodeJwtPart = (s) => JSON.parse(unb64u(s).toString('utf8'));
export const now = () => Math.floor(Date.now() / 1000);

/** A new Ed25519 key pair as JWKs (private with `d`, public without). */
export function ed25519Jwk() {
  // From a random seed (RFC 8410's PKCS#8 prefix), not `generateKeyPairSync`: in Node 20 a garbage
  // collection during the export can free the generation job, whose destructor then waits for the
  // lock the export holds, for good (seen with an RSA key in tools/oidc-provider/server.mjs).
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), randomBytes(32)]);
  const priv = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
  const { d: _d, ...pub } = priv;
  return { priv, pub };
}

/** The members that identify a public key (RFC 7638 required members), to compare JWKs from two tools. */
export function keyCore(jwk) {
  const out = {};
  for (const k of ['kty', 'crv', 'x', 'y']) if (jwk && jwk[k] !== undefined) out[k] = jwk[k];
  return out;
}

/** The public part of a private JWK written by `souverain keygen`. */
export function publicPart(jwk) {
  const { d: _d, ...pub } = jwk;
  return pub;
}

/** A signer for @sd-jwt: signs the JWS signing input with Node's Ed25519 and returns base64url. */
export function edSigner(privJwk) {
  const key = createPrivateKey({ key: privJwk, format: 'jwk' });
  return async (data) => b64u(edSign(null, Buffer.from(data, 'utf8'), key));
}

/**
 * A verifier for @sd-jwt that hands the rebuilt compact JWS to `jose`, which checks the header's
 * `alg` against the allow-list (`EdDSA`, `Ed25519`) and the signature against the JWK.
 * `getKey(payload)` picks the key (the issuer's, or for a KB-JWT the holder's from cnf).
 */
export function joseVerifier(getKey, seenAlgs) {
  return async (data, signature, payload) => {
    const { protectedHeader } = await compactVerify(`${data}.${signature}`, getKey(payload), {
      algorithms: ED25519_ALGS,
    });
    if (seenAlgs) seenAlgs.push(protectedHeader.alg);
    return true;
  };
}

export const hasher = async (data, alg) => {
  if (alg !== 'sha-256') throw new Error(`unexpected _sd_alg ${alg}`);
  return new Uint8Array(createHash('sha256').update(typeof data === 'string' ? data : Buffer.from(data)).digest());
};
export const saltGenerator = async (len) => b64u(randomBytes(len));

/** An @sd-jwt/sd-jwt-vc instance that issues with `issuerPriv` under `alg` and presents with `holderPriv`. */
export function vcInstance({ alg, issuerPriv, issuerPub, holderPriv, seenAlgs }) {
  return new SDJwtVcInstance({
    hasher,
    hashAlg: 'sha-256',
    saltGenerator,
    signAlg: alg,
    signer: issuerPriv ? edSigner(issuerPriv) : undefined,
    kbSignAlg: alg,
    kbSigner: holderPriv ? edSigner(holderPriv) : undefined,
    verifier: issuerPub ? joseVerifier(() => issuerPub, seenAlgs) : undefined,
    // The KB-JWT is checked against the holder key the verified credential binds in cnf.jwk.
    kbVerifier: joseVerifier((payload) => payload.cnf.jwk, seenAlgs),
  });
}

/** Splits a compact SD-JWT into issuer JWT, disclosures and the (possibly empty) KB-JWT. */
export function splitSdJwt(sdjwt) {
  const parts = sdjwt.split('~');
  return { jwt: parts[0], disclosures: parts.slice(1, -1), kb: parts[parts.length - 1] };
}

/** Decodes one disclosure into its JSON array. */
export const decodeDisclosure = (d) => JSON.parse(unb64u(d).toString('utf8'));

/**
 * Replaces the disclosure of object property `name` by a well-formed one with the same salt and a
 * different value: its digest is then referenced by nothing in the signed payload.
 */
export function tamperDisclosure(sdjwt, name, newValue) {
  const { jwt, disclosures, kb } = splitSdJwt(sdjwt);
  let found = false;
  const out = disclosures.map((d) => {
    const arr = decodeDisclosure(d);
    if (arr.length === 3 && arr[1] === name) {
      found = true;
      return b64u(JSON.stringify([arr[0], name, newValue]));
    }
    return d;
  });
  if (!found) throw new Error(`no disclosure for ${name}`);
  return [jwt, ...out, kb].join('~');
}
