import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPkcePair, isValidCodeChallenge, s256, verifyPkce } from './pkce.ts';

test('RFC 7636 Appendix B: S256 of the example verifier gives the example challenge', () => {
  assert.equal(
    s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  );
});

test('RFC 7636 §4.6: a matching verifier passes, any other fails', () => {
  const { code_verifier, code_challenge } = createPkcePair();
  assert.ok(isValidCodeChallenge(code_challenge));
  assert.ok(verifyPkce(code_verifier, code_challenge));
  // Another last character: the verifier is random, and may end in 'A' itself (1 run in 64).
  const other = code_verifier.endsWith('A') ? 'B' : 'A';
  assert.ok(!verifyPkce(`${code_verifier.slice(0, -1)}${other}`, code_challenge));
});

test('RFC 7636 §4.1: verifiers shorter than 43 or with other characters are refused', () => {
  const short = 'a'.repeat(42);
  assert.ok(!verifyPkce(short, s256(short)));
  const bad = `${'a'.repeat(43)}+`;
  assert.ok(!verifyPkce(bad, s256(bad)));
});
