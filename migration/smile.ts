/**
 * Bulk bodies in SMILE (binary JSON, `Content-Type: application/smile`), which OpenSearch's bulk
 * API accepts like NDJSON, with 0xFF instead of the newline between documents. Float32 vector
 * values travel as SMILE 32-bit floats: a token and 5 bytes holding the IEEE bits, so they are bit-exact by
 * construction and the node reads them without parsing decimal text (a 384-dim vector is 2.3 KB
 * instead of ~7.5 KB of text). Only the subset the loader needs is written: objects with short
 * ASCII keys, strings, null, float64, float32 arrays. Spec: https://github.com/FasterXML/smile-format-specification
 */
import { type FieldSpec, ProductVector } from '../schemas/index.ts';
import type { VectorRow } from './records.ts';

/** ":)\n" + version 0, no shared names/values, no raw binary. */
const HEADER = [0x3a, 0x29, 0x0a, 0x00] as const;
const END_OF_DOC = 0xff;
const START_OBJECT = 0xfa;
const END_OBJECT = 0xfb;
const START_ARRAY = 0xf8;
const END_ARRAY = 0xf9;
const NULL = 0x21;
const EMPTY_STRING = 0x20;
const FLOAT32 = 0x28;
const FLOAT64 = 0x29;
const END_STRING = 0xfc;

const u32 = new Uint32Array(1);
const f32 = new Float32Array(u32.buffer);
const f64 = new Float64Array(1);
const f64words = new Uint32Array(f64.buffer);

/** A growable byte buffer with the SMILE primitives. */
export class SmileWriter {
  buf: Buffer;
  at = 0;

  constructor(capacity = 1 << 20) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.at++] = b;
  }

  startDoc(): void {
    this.ensure(5);
    for (const b of HEADER) this.buf[this.at++] = b;
    this.buf[this.at++] = START_OBJECT;
  }

  endDoc(): void {
    this.ensure(2);
    this.buf[this.at++] = END_OBJECT;
    this.buf[this.at++] = END_OF_DOC;
  }

  startObject(): void {
    this.byte(START_OBJECT);
  }

  endObject(): void {
    this.byte(END_OBJECT);
  }

  /** A key: ASCII, 1..64 bytes (the loader's own field names). */
  key(name: string): void {
    const n = name.length;
    if (n < 1 || n > 64 || !/^[\x20-\x7e]+$/.test(name)) throw new Error(`unsupported SMILE key ${name}`);
    this.ensure(n + 1);
    this.buf[this.at++] = 0x80 + n - 1;
    this.at += this.buf.write(name, this.at, 'latin1');
  }

  string(s: string | null): void {
    if (s === null || s.length === 0) {
      this.byte(s === null ? NULL : EMPTY_STRING);
      return;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.ensure(bytes + 2);
    const ascii = bytes === s.length;
    const start = this.at;
    if (bytes <= 64 && (ascii || bytes >= 2)) {
      this.at++;
      this.at += this.buf.write(s, this.at, 'utf8');
      if (ascii) this.buf[start] = bytes <= 32 ? 0x40 + bytes - 1 : 0x60 + bytes - 33;
      else this.buf[start] = bytes <= 33 ? 0x80 + bytes - 2 : 0xa0 + bytes - 34;
      return;
    }
    this.buf[this.at++] = ascii ? 0xe0 : 0xe4;
    this.at += this.buf.write(s, this.at, 'utf8');
    this.buf[this.at++] = END_STRING;
  }

  /** float64: the 64 bits in ten 7-bit groups, most significant first (1 + 9 × 7). */
  float64(x: number): void {
    this.ensure(11);
    f64[0] = x;
    const lo = f64words[0] as number;
    const hi = f64words[1] as number;
    const b = this.buf;
    let p = this.at;
    b[p++] = FLOAT64;
    b[p++] = hi >>> 31;
    b[p++] = (hi >>> 24) & 0x7f;
    b[p++] = (hi >>> 17) & 0x7f;
    b[p++] = (hi >>> 10) & 0x7f;
    b[p++] = (hi >>> 3) & 0x7f;
    b[p++] = ((hi & 0x07) << 4) | (lo >>> 28);
    b[p++] = (lo >>> 21) & 0x7f;
    b[p++] = (lo >>> 14) & 0x7f;
    b[p++] = (lo >>> 7) & 0x7f;
    b[p++] = lo & 0x7f;
    this.at = p;
  }

  float32(x: number): void {
    f32[0] = x;
    this.float32Bits(u32[0] as number);
  }

  /** float32 by its IEEE bits: five 7-bit groups, most significant first (4 + 4 × 7). */
  private float32Bits(bits: number): void {
    const b = this.buf;
    let p = this.at;
    b[p++] = FLOAT32;
    b[p++] = bits >>> 28;
    b[p++] = (bits >>> 21) & 0x7f;
    b[p++] = (bits >>> 14) & 0x7f;
    b[p++] = (bits >>> 7) & 0x7f;
    b[p++] = bits & 0x7f;
    this.at = p;
  }

  float32Array(v: Float32Array): void {
    this.ensure(v.length * 6 + 2);
    this.buf[this.at++] = START_ARRAY;
    const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
    for (let i = 0; i < bits.length; i++) this.float32Bits(bits[i] as number);
    this.buf[this.at++] = END_ARRAY;
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  reset(): void {
    this.at = 0;
  }
}

type FieldWriter = (w: SmileWriter, value: unknown) => void;

function smileWriterOf(name: string, spec: FieldSpec): FieldWriter {
  switch (spec.kind) {
    case 'string':
      return (w, v) => w.string(v as string | null);
    case 'float64':
      return (w, v) => w.float64(v as number);
    case 'vector':
      return (w, v) => w.float32Array(v as Float32Array);
    default:
      // ProductVector has none; add the SMILE encoding here before a document gets one.
      throw new Error(`no SMILE encoding for ${spec.kind} field ${name}`);
  }
}

/** The document's fields in ProductVector order, each with its SMILE writer. */
const DOC_FIELDS = Object.entries(ProductVector.fields).map(([name, spec]) => ({
  name,
  write: smileWriterOf(name, spec),
}));

/** A bulk body (index actions with `_id` = source id) for `POST /_bulk` as application/smile. */
export function smileBulkBody(index: string, docs: readonly VectorRow[], w = new SmileWriter()): Buffer {
  w.reset();
  for (const d of docs) {
    w.startDoc();
    w.key('index');
    w.startObject();
    w.key('_index');
    w.string(index);
    w.key('_id');
    w.string(d.id);
    w.endObject();
    w.endDoc();
    w.startDoc();
    const row = d as Readonly<Record<string, unknown>>;
    for (const f of DOC_FIELDS) {
      w.key(f.name);
      f.write(w, row[f.name]);
    }
    w.endDoc();
  }
  return Buffer.from(w.bytes());
}
