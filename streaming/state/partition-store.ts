import {
  closeSync,
  existsSync,
  fdatasync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  write,
  writeSync,
} from 'node:fs';
import { promisify } from 'node:util';

const writeAsync = promisify(write);
const datasyncAsync = promisify(fdatasync);

import path from 'node:path';

/**
 * A small durable key-value store, one append-only JSON-lines file per input partition, for the
 * state the stages keep beside Kafka: the parse stage's dedupe window and the notify stage's
 * delivery ledger. Writes are fsynced before the stage commits its Kafka transaction, so the
 * state is never behind the committed offsets. A partition's file is (re)loaded when the
 * partition is (re)assigned, so another instance on the same volume takes over after a rebalance.
 */
export class PartitionStore<V> {
  private readonly loaded = new Map<number, Map<string, V>>();
  private readonly lines = new Map<number, number>();
  private readonly dir: string;

  constructor(root: string, name: string) {
    this.dir = path.join(root, name);
    mkdirSync(this.dir, { recursive: true });
  }

  private file(partition: number): string {
    return path.join(this.dir, `p${partition}.jsonl`);
  }

  private load(partition: number): Map<string, V> {
    let map = this.loaded.get(partition);
    if (map) return map;
    map = new Map();
    // (Re)loading after a reassignment: another instance may have compacted (replaced) the file.
    if (!this.queues.get(partition)?.busy) this.closeAppend(partition);
    let count = 0;
    const file = this.file(partition);
    if (existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          const { k, v } = JSON.parse(line) as { k: string; v: V };
          map.set(k, v);
          count++;
        } catch {
          // A torn last line from a crash mid-write: everything before it is intact.
        }
      }
    }
    this.loaded.set(partition, map);
    this.lines.set(partition, count);
    return map;
  }

  get(partition: number, key: string): V | undefined {
    return this.load(partition).get(key);
  }

  /** Appends and fsyncs the entries; returns after they are durable. */
  putAll(partition: number, entries: readonly (readonly [string, V])[]): void {
    if (entries.length === 0) return;
    const map = this.load(partition);
    const fd = openSync(this.file(partition), 'a');
    try {
      writeSync(fd, `${entries.map(([k, v]) => JSON.stringify({ k, v })).join('\n')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    for (const [k, v] of entries) map.set(k, v);
    this.lines.set(partition, (this.lines.get(partition) ?? 0) + entries.length);
  }

  private readonly queues = new Map<
    number,
    { lines: string[]; waiters: { resolve: () => void; reject: (e: unknown) => void }[]; busy: boolean }
  >();

  /**
   * Like putAll, without blocking the event loop: concurrent callers on one partition share one
   * write + fdatasync (group commit). Resolves once the entries are durable; the in-memory view
   * is updated at once (so later reads in this process see them).
   */
  putAllAsync(partition: number, entries: readonly (readonly [string, V])[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const map = this.load(partition);
    for (const [k, v] of entries) map.set(k, v);
    this.lines.set(partition, (this.lines.get(partition) ?? 0) + entries.length);
    let q = this.queues.get(partition);
    if (!q) {
      q = { lines: [], waiters: [], busy: false };
      this.queues.set(partition, q);
    }
    const queue = q;
    for (const [k, v] of entries) queue.lines.push(JSON.stringify({ k, v }));
    return new Promise<void>((resolve, reject) => {
      queue.waiters.push({ resolve, reject });
      void this.drain(partition, queue);
    });
  }

  private async drain(
    partition: number,
    q: { lines: string[]; waiters: { resolve: () => void; reject: (e: unknown) => void }[]; busy: boolean },
  ): Promise<void> {
    if (q.busy) return;
    q.busy = true;
    try {
      while (q.lines.length > 0) {
        const lines = q.lines.splice(0);
        const waiters = q.waiters.splice(0);
        try {
          let fd = this.appendFds.get(partition);
          if (fd === undefined) {
            fd = openSync(this.file(partition), 'a');
            this.appendFds.set(partition, fd);
          }
          const data = Buffer.from(`${lines.join('\n')}\n`);
          for (let at = 0; at < data.length; ) at += (await writeAsync(fd, data, at)).bytesWritten;
          await datasyncAsync(fd);
          for (const w of waiters) w.resolve();
        } catch (error) {
          this.closeAppend(partition);
          for (const w of waiters) w.reject(error);
        }
      }
    } finally {
      q.busy = false;
    }
  }

  /** Append descriptors kept open between group commits (closed on compaction and release). */
  private readonly appendFds = new Map<number, number>();

  private closeAppend(partition: number): void {
    const fd = this.appendFds.get(partition);
    if (fd === undefined) return;
    this.appendFds.delete(partition);
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }

  /** Drops the in-memory copy of partitions this member no longer owns (reloaded on reassignment). */
  retainOnly(partitions: readonly number[]): void {
    for (const p of [...this.loaded.keys()])
      if (!partitions.includes(p)) {
        this.loaded.delete(p);
        if (!this.queues.get(p)?.busy) this.closeAppend(p);
      }
  }

  /** Rewrites a partition's file with only the entries `keep` accepts, when it has grown. */
  compact(partition: number, keep: (value: V) => boolean, minLines = 10_000): void {
    const map = this.load(partition);
    for (const [k, v] of map) if (!keep(v)) map.delete(k);
    const lines = this.lines.get(partition) ?? 0;
    if (lines < minLines || lines < map.size * 2) return;
    if (this.queues.get(partition)?.busy) return; // an async append is in flight: compact next time
    const file = this.file(partition);
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      const body = [...map].map(([k, v]) => JSON.stringify({ k, v })).join('\n');
      writeSync(fd, body ? `${body}\n` : '');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.closeAppend(partition); // the next append opens the new file
    renameSync(tmp, file);
    this.lines.set(partition, map.size);
  }
}
