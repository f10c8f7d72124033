// CKV public verification codes (spec/ckv/public-code.md), written from the spec:
// PBKDF2-HMAC-SHA256 stretching, Crockford base32, two GF(32) check characters.

import { pbkdf2Sync } from "node:crypto";

export class CodeError extends Error {
  constructor(code, requirement, message) {
    super(message);
    this.code = code;
    this.requirement = requirement;
  }
}

const CONTEXT = Buffer.from("CKV public verification code v1");
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DATA = 22;
const TOTAL = 24;
const ITERATIONS = 1 << 17;
const DK_LEN = 14; // ceil(110 / 8)

// GF(32) = GF(2)[x] / (x^5 + x^2 + 1); alpha = x.
const EXP = new Array(62).fill(0);
const LOG = new Array(32).fill(0);
{
  let x = 1;
  for (let i = 0; i < 31; i++) {
    EXP[i] = EXP[i + 31] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 32) x ^= 0b100101;
  }
}
const mul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);
const div = (a, b) => (a === 0 ? 0 : EXP[(LOG[a] - LOG[b] + 31) % 31]);

function syndromes(values) {
  let s0 = 0;
  let s1 = 0;
  values.forEach((v, i) => {
    s0 ^= v;
    s1 ^= mul(EXP[i], v);
  });
  return [s0, s1];
}

function checkSymbols(data) {
  const [s0, s1] = syndromes(data);
  const a22 = EXP[DATA];
  const a23 = EXP[DATA + 1];
  const c22 = div(s1 ^ mul(a23, s0), a22 ^ a23);
  return [c22, s0 ^ c22];
}

function u16(n) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function format(values) {
  const text = values.map((v) => ALPHABET[v]).join("");
  return text.match(/.{4}/g).join("-");
}

export function derive(suiteValue, keyType, accountId, key) {
  // PVC-015: the input's fields must fit their ranges.
  if (!(keyType >= 1 && keyType <= 0xffff)) {
    throw new CodeError("BAD_INPUT", "PVC-015", `key type ${keyType} outside 1..65535`);
  }
  for (const [name, v] of [["account id", accountId], ["key", key]]) {
    if (v.length < 1 || v.length > 0xffff) {
      throw new CodeError("BAD_INPUT", "PVC-015", `${name} is ${v.length} bytes`);
    }
  }
  const input = Buffer.concat([
    Buffer.from([CONTEXT.length]), CONTEXT, u16(suiteValue), u16(keyType),
    u16(accountId.length), accountId, u16(key.length), key,
  ]);
  const dk = pbkdf2Sync(input, CONTEXT, ITERATIONS, DK_LEN, "sha256");
  let bits = BigInt("0x" + dk.toString("hex")) >> 2n; // keep the first 110 bits
  const data = [];
  for (let i = DATA - 1; i >= 0; i--) {
    data[i] = Number(bits & 31n);
    bits >>= 5n;
  }
  return format([...data, ...checkSymbols(data)]);
}

const VALUE = {};
[...ALPHABET].forEach((ch, i) => {
  VALUE[ch] = i;
  VALUE[ch.toLowerCase()] = i;
});
Object.assign(VALUE, { O: 0, o: 0, I: 1, i: 1, L: 1, l: 1 });
const SEPARATORS = new Set([" ", "\t", "\r", "\n", "-"]);

export function parse(text) {
  // PVC-010: a text of separators only holds no code.
  if ([...text].every((ch) => SEPARATORS.has(ch))) {
    throw new CodeError("MALFORMED_CODE", "PVC-010", "the code is empty");
  }
  const values = [];
  for (const ch of text) {
    if (SEPARATORS.has(ch)) continue;
    // PVC-016: only code characters and separators.
    if (!(ch in VALUE) || ch === "U" || ch === "u") {
      throw new CodeError("MALFORMED_CODE", "PVC-016", `character ${JSON.stringify(ch)} is not a code character`);
    }
    values.push(VALUE[ch]);
  }
  if (values.length !== TOTAL) {
    throw new CodeError("MALFORMED_CODE", "PVC-010", `${values.length} characters, expected ${TOTAL}`);
  }
  const [s0, s1] = syndromes(values);
  // PVC-011: both check equations hold.
  if (s0 !== 0 || s1 !== 0) {
    throw new CodeError("MALFORMED_CODE", "PVC-011", "the check characters do not match");
  }
  return { code: format(values), values };
}
