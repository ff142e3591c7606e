/** What a migration source is: the records of a Chroma collection, read in Chroma's stable order. */

export type SpaceName = 'l2' | 'cosine' | 'ip';

export interface SourceSpec {
  /** http(s)://host:port of a Chroma server, or a PersistentClient directory. */
  readonly location: string;
  readonly collection: string;
  readonly tenant?: string;
  readonly database?: string;
  /** Python with chromadb (persistent directories only). */
  readonly python?: string | undefined;
}

export interface SourceCollection {
  readonly name: string;
  readonly id: string;
  readonly metadata: Record<string, unknown> | null;
  readonly configuration: Record<string, unknown>;
  readonly count: number;
}

export interface SourceBatch {
  readonly ids: string[];
  readonly documents: (string | null)[];
  readonly metadatas: (Record<string, unknown> | null)[];
  readonly embeddings: Float32Array[];
}

/** What assess needs of a slice of records, computed where the records are (see PythonChromaSource.stats). */
export interface SliceStats {
  readonly count: number;
  readonly dims: Record<string, number>;
  readonly zero: number;
  readonly nonFinite: number;
  readonly noMeta: number;
  readonly noDoc: number;
  readonly keys: Record<string, Record<string, number>>;
}

export interface QueryResult {
  readonly ids: string[][];
  readonly distances: number[][];
}

export interface ChromaSource {
  readonly kind: 'http' | 'path';
  readonly location: string;
  collections(): Promise<SourceCollection[]>;
  /** Records [offset, offset+limit) in Chroma's stable internal order. */
  get(collection: string, offset: number, limit: number): Promise<SourceBatch>;
  getByIds(collection: string, ids: string[]): Promise<SourceBatch>;
  query(collection: string, queries: Float32Array[], k: number): Promise<QueryResult>;
  /** Statistics of records [offset, offset+limit) without shipping them (directory sources only). */
  stats?(collection: string, offset: number, limit: number): Promise<SliceStats>;
  close(): Promise<void>;
  /** False once a reader process has exited or been closed (absent: a stateless server client). */
  readonly alive?: boolean;
}

export function isHttpLocation(location: string): boolean {
  return /^https?:\/\//i.test(location);
}
