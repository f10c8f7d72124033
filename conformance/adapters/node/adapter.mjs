#!/usr/bin/env node
// Conformance adapter of the small Node.js implementation (conformance/PROTOCOL.md).
// Performs wire.decode and wire.encode (every struct, from WIRE-DEFINITIONS.json) and the public
// verification code (derive, parse); answers `unsupported` to everything else.
// Usage: node adapter.mjs [--definitions PATH]

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { Decoder, Encoder, WireError, parseJson, toJson } from "./wire.mjs";
import { CodeError, derive, parse } from "./public_code.mjs";
import { MathError, accumulate } from "./tree_math.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const flag = process.argv.indexOf("--definitions");
const definitionsPath =
  flag >= 0 ? process.argv[flag + 1] : join(here, "..", "..", "vectors", "WIRE-DEFINITIONS.json");
const definitions = JSON.parse(readFileSync(definitionsPath, "utf8"));

const hex = (s) => {
  if (typeof s !== "string" || !/^([0-9a-f]{2})*$/.test(s)) throw new CodeError("BAD_INPUT", null, "not hex");
  return Buffer.from(s, "hex");
};

const handlers = {
  "wire.decode": (input) => {
    const decoder = new Decoder(definitions, input.cipher_suite, input.context);
    return { value: decoder.decode(input.struct, hex(input.encoding)) };
  },
  "wire.encode": (input) => {
    const encoder = new Encoder(definitions, input.cipher_suite, input.context);
    return { encoding: encoder.encode(input.struct, input.value).toString("hex") };
  },
  "ckv.public-code.derive": (input) => {
    const suite = definitions.enums.CipherSuite.values[input.cipher_suite];
    if (!suite) throw new CodeError("BAD_INPUT", null, "unknown cipher suite");
    return { code: derive(suite, input.key_type, hex(input.account_id), hex(input.key)) };
  },
  "ckv.public-code.parse": (input) => parse(input.text),
  "kt.tree-math.accumulated": (input) => accumulate(input.function, Number(input.max)),
};

function answer(message) {
  process.stdout.write(toJson(message) + "\n");
}

function run(kind, input) {
  const fn = handlers[kind];
  if (!fn) return { result: "unsupported", detail: `no handler for ${kind}` };
  try {
    return { result: "valid", output: fn(input) };
  } catch (err) {
    if (err instanceof WireError || err instanceof CodeError || err instanceof MathError) {
      return { result: "invalid", error: err.code, requirement: err.requirement, detail: err.message };
    }
    process.stderr.write(`${err.stack}\n`);
    return { result: "invalid", error: "INTERNAL", detail: String(err) };
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (!line.trim()) return;
  let msg;
  try {
    msg = parseJson(line);
  } catch (err) {
    process.stderr.write(`not a JSON line: ${err}\n`);
    return;
  }
  switch (msg.type) {
    case "hello":
      answer({ type: "hello", name: "ckv-node-mini", version: "0.1.0", protocol: 1, capabilities: Object.keys(handlers).sort() });
      break;
    case "case":
      answer({ type: "result", id: msg.id, ...run(msg.kind, msg.input) });
      break;
    case "open":
      answer({ type: "result", session: msg.session, result: "unsupported" });
      break;
    case "step":
      answer({ type: "result", id: msg.id, result: "unsupported" });
      break;
    case "close":
      answer({ type: "closed", session: msg.session });
      break;
    case "bye":
      process.exit(0);
      break;
    default:
      answer({ type: "error", detail: `unknown message type ${msg.type}` });
  }
});
