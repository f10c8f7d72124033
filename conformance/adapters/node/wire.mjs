// A strict decoder for the CKV wire format, driven by WIRE-DEFINITIONS.json (the
// parsed spec/wire/*.tls definitions that `ckv vectors generate` writes). Nothing
// here is specific to one structure: every struct is decoded by walking its
// definition. Errors carry the error classes of the conformance suite.

export class WireError extends Error {
  constructor(code, requirement, message) {
    super(message);
    this.code = code;
    this.requirement = requirement;
  }
}

const MAX_SIZE = 1 << 24;

function prefixWidth(ceiling) {
  // As many bytes as the ceiling needs (at least one).
  let bits = 0;
  for (let c = BigInt(ceiling); c > 0n; c >>= 1n) bits += 1;
  return Math.max(1, Math.ceil(bits / 8));
}

export class Decoder {
  constructor(definitions, suiteName, context) {
    this.defs = definitions;
    this.constants = definitions.suites[suiteName];
    if (!this.constants) throw new WireError("BAD_INPUT", null, `unknown suite ${suiteName}`);
    this.context = context || {};
  }

  decode(structName, bytes) {
    if (!this.defs.structs[structName]) {
      throw new WireError("BAD_INPUT", null, `unknown struct ${structName}`);
    }
    if (bytes.length > MAX_SIZE) throw new WireError("TOO_LARGE", "WIRE-009", "input too large");
    this.buf = bytes;
    this.pos = 0;
    const value = this.struct(structName);
    if (this.pos !== bytes.length) {
      throw new WireError("TRAILING_BYTES", "WIRE-008", `${bytes.length - this.pos} trailing byte(s)`);
    }
    return value;
  }

  take(n) {
    if (this.pos + n > this.buf.length) {
      throw new WireError("TRUNCATED", "WIRE-004", `needs ${n} byte(s) at offset ${this.pos}`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  uint(width) {
    let v = 0n;
    for (const b of this.take(width)) v = (v << 8n) | BigInt(b);
    return v;
  }

  struct(name) {
    const out = {};
    this.members(name, this.defs.structs[name], out);
    return out;
  }

  members(name, members, out) {
    for (const m of members) {
      if (m.field !== undefined && m.kind !== undefined) {
        out[m.field] = this.kind(m.kind);
        continue;
      }
      const label = this.discriminant(m, out);
      const chosen = m.cases.find((c) => c.labels.includes(label));
      if (chosen) this.members(name, chosen.members, out);
    }
  }

  discriminant(select, out) {
    if (select.internal) {
      const v = out[select.field];
      const field = this.findField(select.select.split(".")[0], select.field);
      if (field.kind.type === "optional") return v === null ? "absent" : "present";
      return v; // enum name
    }
    const v = this.context[select.select];
    if (v === undefined) {
      throw new WireError("MISSING_CONTEXT", "WIRE-011", `needs decoding context ${select.select}`);
    }
    return v;
  }

  findField(struct, field) {
    const walk = (members) => {
      for (const m of members) {
        if (m.kind !== undefined && m.field === field) return m;
        if (m.cases) {
          for (const c of m.cases) {
            const f = walk(c.members);
            if (f) return f;
          }
        }
      }
      return null;
    };
    return walk(this.defs.structs[struct]);
  }

  kind(k) {
    switch (k.type) {
      case "uint":
        return this.uint(k.width);
      case "enum": {
        const e = this.defs.enums[k.name];
        const v = Number(this.uint(e.width));
        const name = Object.keys(e.values).find((n) => e.values[n] === v);
        // WIRE-007: undefined and reserved values are rejected.
        if (name === undefined || name === "reserved") {
          throw new WireError("UNKNOWN_ENUM", "WIRE-007", `${k.name} has no value ${v}`);
        }
        return name;
      }
      case "opaque_fixed": {
        const size = typeof k.size === "number" ? k.size : this.constants[k.size];
        return Buffer.from(this.take(size)).toString("hex");
      }
      case "opaque_vector": {
        const n = this.count(k);
        return Buffer.from(this.take(n)).toString("hex");
      }
      case "vector": {
        const n = this.count(k);
        const out = [];
        for (let i = 0; i < n; i++) out.push(this.kind(k.element));
        return out;
      }
      case "optional": {
        const presence = this.take(1)[0];
        // WIRE-006: the presence octet is 0 or 1.
        if (presence > 1) {
          throw new WireError("OPTIONAL_BAD_PRESENCE", "WIRE-006", `presence octet ${presence}`);
        }
        return presence === 0 ? null : this.kind(k.element);
      }
      case "struct":
        return this.struct(k.name);
      default:
        throw new Error(`unknown kind ${k.type}`);
    }
  }

  count(k) {
    const n = this.uint(prefixWidth(k.ceiling));
    // WIRE-005: element counts within the declared bounds.
    if (n < BigInt(k.floor) || n > BigInt(k.ceiling)) {
      throw new WireError("LENGTH_OUT_OF_RANGE", "WIRE-005", `count ${n} outside ${k.floor}..${k.ceiling}`);
    }
    return Number(n);
  }
}

// JSON text in which BigInt values (uint64 and friends) are written as exact numbers.
export function toJson(value) {
  if (typeof value === "bigint") return value.toString();
  if (value === null) return "null";
  if (Array.isArray(value)) return "[" + value.map(toJson).join(",") + "]";
  if (typeof value === "object") {
    return "{" + Object.keys(value).map((k) => JSON.stringify(k) + ":" + toJson(value[k])).join(",") + "}";
  }
  return JSON.stringify(value);
}

// The encoder: checks a value in the JSON form against the definitions, then writes it.
export class Encoder {
  constructor(definitions, suiteName, context) {
    this.defs = definitions;
    this.constants = definitions.suites[suiteName];
    if (!this.constants) throw new WireError("BAD_INPUT", null, `unknown suite ${suiteName}`);
    this.context = context || {};
  }

  encode(structName, value) {
    if (!this.defs.structs[structName]) {
      throw new WireError("BAD_INPUT", null, `unknown struct ${structName}`);
    }
    this.parts = [];
    this.struct(structName, value, structName);
    return Buffer.concat(this.parts);
  }

  bad(path, why, code = "BAD_VALUE") {
    // WIRE-010: the encoder refuses what a decoder would refuse.
    return new WireError(code, "WIRE-010", `${path}: ${why}`);
  }

  struct(name, value, path) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw this.bad(path, `expected an object for ${name}`);
    }
    const expected = new Set();
    this.members(this.defs.structs[name], value, path, expected);
    const extra = Object.keys(value).filter((k) => !expected.has(k));
    if (extra.length) throw this.bad(path, `unexpected field(s) ${extra.join(", ")}`);
  }

  members(members, value, path, expected) {
    for (const m of members) {
      if (m.kind !== undefined) {
        expected.add(m.field);
        if (!(m.field in value)) throw this.bad(path, `missing field ${m.field}`);
        this.kind(m.kind, value[m.field], `${path}.${m.field}`);
        continue;
      }
      let label;
      if (m.internal) {
        const v = value[m.field];
        label = v === null ? "absent" : v;
        const optional = m.cases.some((c) => c.labels.includes("present") || c.labels.includes("absent"));
        if (optional) label = v === null || v === undefined ? "absent" : "present";
      } else {
        label = this.context[m.select];
        if (label === undefined) throw new WireError("MISSING_CONTEXT", "WIRE-011", `needs ${m.select}`);
      }
      const chosen = m.cases.find((c) => c.labels.includes(label));
      if (chosen) this.members(chosen.members, value, path, expected);
    }
  }

  bytes(value, path) {
    if (typeof value !== "string" || !/^([0-9a-fA-F]{2})*$/.test(value)) {
      throw this.bad(path, "not valid hex");
    }
    return Buffer.from(value, "hex");
  }

  count(k, n, path) {
    if (n < k.floor || n > k.ceiling) {
      throw this.bad(path, `${n} elements, outside ${k.floor}..${k.ceiling}`, "LENGTH_OUT_OF_RANGE");
    }
    this.uint(prefixWidth(k.ceiling), BigInt(n));
  }

  uint(width, v) {
    const out = Buffer.alloc(width);
    for (let i = width - 1; i >= 0; i--) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.parts.push(out);
  }

  kind(k, value, path) {
    switch (k.type) {
      case "uint": {
        if (typeof value === "boolean" || !(typeof value === "bigint" || Number.isInteger(value))) {
          throw this.bad(path, "expected an integer");
        }
        const v = BigInt(value);
        if (v < 0n || v >= 1n << BigInt(8 * k.width)) throw this.bad(path, `${v} does not fit`);
        this.uint(k.width, v);
        return;
      }
      case "enum": {
        const e = this.defs.enums[k.name];
        if (typeof value !== "string" || !(value in e.values) || value === "reserved") {
          throw this.bad(path, `${JSON.stringify(value)} is not a ${k.name}`);
        }
        this.uint(e.width, BigInt(e.values[value]));
        return;
      }
      case "opaque_fixed": {
        const size = typeof k.size === "number" ? k.size : this.constants[k.size];
        const b = this.bytes(value, path);
        if (b.length !== size) throw this.bad(path, `${b.length} bytes, expected ${size}`);
        this.parts.push(b);
        return;
      }
      case "opaque_vector": {
        const b = this.bytes(value, path);
        this.count(k, b.length, path);
        this.parts.push(b);
        return;
      }
      case "vector": {
        if (!Array.isArray(value)) throw this.bad(path, "expected an array");
        this.count(k, value.length, path);
        value.forEach((e, i) => this.kind(k.element, e, `${path}[${i}]`));
        return;
      }
      case "optional":
        if (value === null) {
          this.parts.push(Buffer.from([0]));
        } else {
          this.parts.push(Buffer.from([1]));
          this.kind(k.element, value, path);
        }
        return;
      case "struct":
        this.struct(k.name, value, path);
        return;
      default:
        throw new Error(`unknown kind ${k.type}`);
    }
  }
}

// JSON.parse that keeps integers beyond 2^53 exact (as BigInt).
export function parseJson(text) {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === "\\") out += text[++i];
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    if (ch === "-" || (ch >= "0" && ch <= "9")) {
      let j = i;
      while (j < text.length && /[-+0-9.eE]/.test(text[j])) j++;
      const token = text.slice(i, j);
      out += /^-?\d{16,}$/.test(token) ? `"\\u0000big:${token}"` : token;
      i = j - 1;
      continue;
    }
    out += ch;
  }
  return JSON.parse(out, (_key, v) =>
    typeof v === "string" && v.startsWith("\u0000big:") ? BigInt(v.slice(5)) : v,
  );
}
