// Tree math of the implicit binary search tree (KEYTRANS §4.1), the log tree's full
// subtrees (§3.2) and the base binary ladder (§5), accumulated into one SHA-256 over
// text lines as the `kt.tree-math.accumulated` vectors define them.

import { createHash } from "node:crypto";

export class MathError extends Error {
  constructor(code, requirement, message) {
    super(message);
    this.code = code;
    this.requirement = requirement;
  }
}

const bitLength = (x) => (x === 0 ? 0 : Math.floor(Math.log2(x)) + 1);

// The level of an entry: the number of trailing one bits of its position.
function level(x) {
  let k = 0;
  while ((x >> k) & 1) k++;
  return k;
}

const root = (n) => 2 ** (bitLength(n) - 1) - 1;

// In the unbounded tree, an entry of level k is a left child when bit k+1 is clear.
const unboundedParent = (x, k) => (Math.floor(x / 2 ** (k + 1)) % 2 ? x - 2 ** k : x + 2 ** k);

function parent(x, n) {
  if (x === root(n)) return null;
  let k = level(x);
  let p = unboundedParent(x, k);
  // Positions beyond the tree are skipped: the entry hangs from the first that exists.
  while (p >= n) {
    k += 1;
    p = unboundedParent(p, k);
  }
  return p;
}

// The frontier: each prefix sum of the set bits of n (highest first), minus one.
function frontier(n) {
  const out = [];
  let acc = 0;
  for (let bit = bitLength(n) - 1; bit >= 0; bit--) {
    if (Math.floor(n / 2 ** bit) % 2) {
      acc += 2 ** bit;
      out.push(acc - 1);
    }
  }
  return out;
}

function fullSubtrees(n) {
  const out = [];
  let start = 0;
  for (let bit = bitLength(n) - 1; bit >= 0; bit--) {
    const width = 2 ** bit;
    if (Math.floor(n / width) % 2) {
      out.push(`[${start},${start + width})`);
      start += width;
    }
  }
  return out;
}

const MAX_VERSION = 2 ** 32 - 1;

// Powers of two minus one up to the first above g, then a binary search between the
// last two; lookups above 2^32 - 1 are left out.
function baseLadder(g) {
  const out = [];
  let v = 0;
  for (let i = 0; ; i++) {
    v = 2 ** i - 1;
    if (v > MAX_VERSION) return out;
    out.push(v);
    if (v > g) break;
  }
  let lower = out.length > 1 ? out[out.length - 2] : -1;
  let upper = out[out.length - 1];
  if (out.length === 1) return out;
  while (lower + 1 < upper) {
    const mid = Math.floor((lower + upper) / 2);
    out.push(mid);
    if (mid <= g) lower = mid;
    else upper = mid;
  }
  return out;
}

export function accumulate(fn, max) {
  const lines = [];
  if (fn === "base-binary-ladder") {
    for (let g = 0; g <= max; g++) lines.push(`${g} ${baseLadder(g).join(",")}`);
  } else {
    // SEARCH-003: a tree has at least one entry.
    if (!(max >= 1)) throw new MathError("BAD_INPUT", "SEARCH-003", `tree size ${max}`);
    for (let n = 1; n <= max; n++) {
      if (fn === "implicit-search-tree") {
        const parents = [];
        for (let x = 0; x < n; x++) {
          const p = parent(x, n);
          parents.push(p === null ? "-" : String(p));
        }
        lines.push(`${n} root=${root(n)} parents=${parents.join(",")}`);
      } else if (fn === "frontier") {
        lines.push(`${n} frontier=${frontier(n).join(",")}`);
      } else if (fn === "log-tree-full-subtrees") {
        lines.push(`${n} ${fullSubtrees(n).join(" ")}`);
      } else {
        throw new MathError("BAD_INPUT", null, `unknown function ${fn}`);
      }
    }
  }
  const hash = createHash("sha256");
  for (const line of lines) hash.update(`${line}\n`);
  return { lines: lines.length, sha256: hash.digest("hex") };
}
