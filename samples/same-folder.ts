import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

/** True when both folders hold the same file names (dotfiles aside) with the same bytes. */
export function sameFolder(a: string, b: string): boolean {
  if (!existsSync(b)) return false;
  const names = (dir: string) =>
    readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .sort();
  const left = names(a);
  const right = names(b);
  if (left.join('\0') !== right.join('\0')) return false;
  return left.every((n) => sameFile(path.join(a, n), path.join(b, n)));
}

/** Byte equality in 1 MiB chunks (sample partitions reach hundreds of MB at bench sizes). */
function sameFile(a: string, b: string): boolean {
  const sa = statSync(a);
  const sb = statSync(b);
  if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const ba = Buffer.alloc(1 << 20);
    const bb = Buffer.alloc(1 << 20);
    for (let pos = 0; pos < sa.size; ) {
      const n = readSync(fa, ba, 0, ba.length, pos);
      if (n === 0) return false;
      readSync(fb, bb, 0, n, pos);
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
      pos += n;
    }
    return true;
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}
