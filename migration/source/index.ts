/**
 * The migration source: a Chroma server over its HTTP v2 API (http.ts), or a Chroma persistent
 * directory read through Python chromadb (python.ts), optionally several readers behind one
 * source (pool.ts). Both give embeddings as Float32Array, bit-exact.
 */
import { HttpChromaSource } from './http.ts';
import { PooledChromaSource } from './pool.ts';
import { defaultPython, PythonChromaSource } from './python.ts';
import { type ChromaSource, isHttpLocation, type SourceSpec } from './types.ts';

export { HttpChromaSource } from './http.ts';
export { PooledChromaSource } from './pool.ts';
export { CHROMA_SOURCE_SCRIPT, defaultPython, PythonChromaSource } from './python.ts';
export { readInOrder } from './read-in-order.ts';
export { spaceOf } from './space.ts';
export * from './types.ts';

/**
 * Opens the source. `readers` > 1 (directories only) starts that many chromadb reader processes
 * behind one ChromaSource, so reads of different chunks run on different cores: a directory read
 * is bound by chromadb's conversion to Python objects, which holds the GIL (threads do not help).
 * A server source takes concurrent requests as it is.
 */
export async function openSource(spec: SourceSpec, readers = 1): Promise<ChromaSource> {
  if (isHttpLocation(spec.location)) {
    const s = new HttpChromaSource(
      spec.location,
      spec.tenant ?? 'default_tenant',
      spec.database ?? 'default_database',
    );
    await s.heartbeat();
    return s;
  }
  const python = spec.python ?? defaultPython();
  // The first reader opens the directory alone (chromadb may migrate an older store on open);
  // the others start while it already serves and join the pool when ready.
  const first = await PythonChromaSource.start(spec.location, python);
  if (readers <= 1) return first;
  const pool = new PooledChromaSource([first]);
  for (let i = 1; i < readers; i++) pool.join(PythonChromaSource.start(spec.location, python));
  return pool;
}
