"""Writes a deterministic Chroma collection shaped like the prototype's vector store.

Either into a PersistentClient directory (--path DIR) or through a running server
(--url http://127.0.0.1:PORT). Embeddings are always passed explicitly: no embedding
function is ever instantiated (Chroma's default one downloads a model).

Record i (0-based):
  id        doc_<i>
  document  "Deal <i>: <category> item priced <price>"
  metadata  {"category": CATEGORIES[i % 4], "price": round(9.99 + i, 2)}
  embedding [((i * 31 + j * 17) % 97) / 97.0 for j in range(dim)]

Prints one JSON object on the last stdout line: what was written and, for --path,
how the directory looks (sqlite tables and row counts, segment folders and files,
element count in each HNSW header).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import struct
import sys
from pathlib import Path

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

CATEGORIES = ["Electronics", "Home", "Toys", "Automotive"]


def embedding(i: int, dim: int) -> list[float]:
    return [((i * 31 + j * 17) % 97) / 97.0 for j in range(dim)]


def record(i: int) -> tuple[str, str, dict]:
    category = CATEGORIES[i % len(CATEGORIES)]
    price = round(9.99 + i, 2)
    return f"doc_{i}", f"Deal {i}: {category} item priced {price}", {"category": category, "price": price}


def describe_dir(path: Path) -> dict:
    """Layout of a PersistentClient directory (read-only, after the client is done)."""
    out: dict = {"files": sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())}
    db = sqlite3.connect(f"file:{path / 'chroma.sqlite3'}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table' order by name")]
        out["tables"] = tables
        counts = {}
        for t in ("collections", "segments", "embeddings", "embedding_metadata", "embeddings_queue", "max_seq_id"):
            if t in tables:
                counts[t] = db.execute(f"select count(*) from {t}").fetchone()[0]
        out["row_counts"] = counts
        out["segments"] = [
            {"id": r[0], "type": r[1], "scope": r[2]} for r in db.execute("select id, type, scope from segments")
        ]
    finally:
        db.close()
    hnsw = {}
    for seg in out["segments"]:
        header = path / seg["id"] / "header.bin"
        if header.exists():
            raw = header.read_bytes()
            # hnswlib header: offsetLevel0 (size_t), max_elements (size_t), cur_element_count (size_t) ...
            # Chroma's fork prefixes a 4-byte persistence version; read both layouts' third field.
            fields = struct.unpack_from("<iQQQ", raw, 0) if len(raw) >= 28 else None
            hnsw[seg["id"]] = {
                "files": sorted(p.name for p in (path / seg["id"]).iterdir()),
                "header_bytes": len(raw),
                "max_elements": fields[2] if fields else None,
                "cur_element_count": fields[3] if fields else None,
            }
    out["hnsw"] = hnsw
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--path", help="PersistentClient directory to write")
    target.add_argument("--url", help="running Chroma server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--collection", default="products")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if args.path:
        client = chromadb.PersistentClient(path=args.path, settings=settings)
    else:
        from urllib.parse import urlparse

        u = urlparse(args.url)
        client = chromadb.HttpClient(host=u.hostname, port=u.port or 80, ssl=u.scheme == "https", settings=settings)

    collection = client.get_or_create_collection(
        name=args.collection,
        embedding_function=None,
        configuration={"hnsw": {"space": "cosine"}},
        metadata={"source": "dealfinder-test-fixture"},
    )
    for start in range(0, args.count, args.batch):
        idx = range(start, min(start + args.batch, args.count))
        recs = [record(i) for i in idx]
        collection.add(
            ids=[r[0] for r in recs],
            documents=[r[1] for r in recs],
            metadatas=[r[2] for r in recs],
            embeddings=[embedding(i, args.dim) for i in idx],
        )
    summary = {
        "chromadb": chromadb.__version__,
        "collection": args.collection,
        "collection_id": str(collection.id),
        "count": collection.count(),
        "dim": args.dim,
    }
    if args.path:
        del client
        summary["layout"] = describe_dir(Path(args.path))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
