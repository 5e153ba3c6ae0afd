// An independent JOSE implementation (`jose`, pinned in package.json) for Techo's share
// packages (tests/it/package.rs): compact JWE, alg "dir", enc "A256GCM", as SMART Health
// Links use.
//
//   node shl-jose.mjs decrypt <package-file> <base64url-key>
//     prints {"sha256": hex of the plaintext, "resourceType": …, "cty": …} on one line
//   node shl-jose.mjs encrypt <plaintext-file> <out-file>
//     writes a compact JWE made with a fresh random key and prints the key (base64url)
//   node shl-jose.mjs sha256
//     prints the SHA-256 (hex) of standard input (so a test compares plaintexts without
//     writing one to disk)
//
// Errors: one line on stderr, exit code 1.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash, getRandomValues } from 'node:crypto';
import { compactDecrypt, CompactEncrypt, base64url } from 'jose';

const [mode, a, b] = process.argv.slice(2);
try {
  if (mode === 'decrypt' && a && b) {
    const jwe = readFileSync(a, 'utf8').trim();
    const key = base64url.decode(b);
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, key);
    const sha256 = createHash('sha256').update(plaintext).digest('hex');
    let resourceType = null;
    try {
      resourceType = JSON.parse(new TextDecoder().decode(plaintext)).resourceType ?? null;
    } catch {
      resourceType = null;
    }
    console.log(JSON.stringify({ sha256, resourceType, cty: protectedHeader.cty ?? null }));
  } else if (mode === 'encrypt' && a && b) {
    const plaintext = readFileSync(a);
    const key = getRandomValues(new Uint8Array(32));
    const jwe = await new CompactEncrypt(plaintext)
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'application/fhir+json' })
      .encrypt(key);
    writeFileSync(b, jwe);
    console.log(base64url.encode(key));
  } else if (mode === 'sha256') {
    const chunks = [];
    for await (const c of process.stdin) chunks.push(c);
    console.log(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'));
  } else {
    console.error('usage: node shl-jose.mjs decrypt <package-file> <base64url-key> | encrypt <plaintext-file> <out-file> | sha256');
    process.exit(2);
  }
} catch (e) {
  console.error(`shl-jose: ${e.code ?? 'error'}: ${e.message}`);
  process.exit(1);
}
