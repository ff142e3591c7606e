"""Reads a Chroma PersistentClient directory for `dealctl migrate` (JSON-lines RPC on stdio).

The migration runs in Node; Chroma's on-disk format is only readable through Python chromadb
(the newest <1000 records may still sit in the sqlite embeddings_queue, so raw HNSW files are
not a complete source). One request per stdin line, one response per stdout line:

  {"op": "collections"}                                   -> {"collections": [{name, id, metadata, configuration, dimension, count}]}
  {"op": "get", "collection": c, "offset": o, "limit": n} -> {"ids", "documents", "metadatas", "dims", "emb"}
  {"op": "get_ids", "collection": c, "ids": [...]}         -> same shape, in the order Chroma returns
  {"op": "stats", "collection": c, "offset": o, "limit": n}
      -> {"count", "dims": {d: n}, "zero", "non_finite", "no_meta", "no_doc", "keys": {key: {type: n}}}
         (assess: computed here with numpy, so the vectors do not travel to Node twice)
  {"op": "query", "collection": c, "embeddings_b64": s, "dim": d, "k": k}
                                                          -> {"ids": [[...]], "distances": [[...]]}
Embeddings travel as base64 of little-endian float32 ("emb": all vectors concatenated, "dims":
the length of each), so values stay bit-exact. Errors: {"error": "...", "type": "..."}.
Nothing is ever written through the client (no add/update/delete).
"""

from __future__ import annotations

import base64
import json
import os
import sys

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def encode(embeddings) -> tuple[str, list[int]]:
    import numpy as np

    if embeddings is None:
        return "", []
    if isinstance(embeddings, np.ndarray) and embeddings.ndim == 2:
        # One conversion for the whole chunk (chromadb returns float64: float32 → float64 → float32 is exact).
        a = np.ascontiguousarray(embeddings, dtype="<f4")
        return base64.b64encode(a.tobytes()).decode("ascii"), [int(a.shape[1])] * int(a.shape[0])
    parts = []
    dims = []
    for e in embeddings:
        a = np.asarray(e, dtype="<f4").reshape(-1)
        parts.append(a.tobytes())
        dims.append(int(a.shape[0]))
    return base64.b64encode(b"".join(parts)).decode("ascii"), dims


def type_name(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    return "object"


def stats(col, offset: int, limit: int) -> dict:
    import numpy as np

    r = col.get(offset=offset, limit=limit, include=["embeddings", "documents", "metadatas"])
    ids = r["ids"]
    out = {"count": len(ids), "dims": {}, "zero": 0, "non_finite": 0, "no_meta": 0, "no_doc": 0, "keys": {}}
    emb = r.get("embeddings")
    if emb is not None and len(ids):
        if isinstance(emb, np.ndarray) and emb.ndim == 2:
            groups = [np.asarray(emb, dtype="<f4")]
        else:  # ragged: group by length
            by_len: dict = {}
            for e in emb:
                a = np.asarray(e, dtype="<f4").reshape(-1)
                by_len.setdefault(a.shape[0], []).append(a)
            groups = [np.stack(v) for v in by_len.values()]
        for g in groups:
            d = str(g.shape[1])
            out["dims"][d] = out["dims"].get(d, 0) + int(g.shape[0])
            finite = np.isfinite(g).all(axis=1)
            out["non_finite"] += int((~finite).sum())
            out["zero"] += int((g == 0).all(axis=1).sum())
    for m in r.get("metadatas") or [None] * len(ids):
        if not m:
            out["no_meta"] += 1
            continue
        for k, v in m.items():
            t = out["keys"].setdefault(k, {})
            n = type_name(v)
            t[n] = t.get(n, 0) + 1
    out["no_doc"] = sum(1 for d in (r.get("documents") or [None] * len(ids)) if d is None)
    return out


def configuration_of(col) -> dict:
    try:
        conf = col.configuration_json
    except Exception:  # older clients
        conf = None
    if conf is None:
        try:
            conf = dict(col.configuration)
        except Exception:
            conf = {}
    return json.loads(json.dumps(conf, default=str))


def main() -> int:
    path = sys.argv[1]
    if not os.path.isdir(path) or not os.path.exists(os.path.join(path, "chroma.sqlite3")):
        print(json.dumps({"fatal": f"{path} is not a Chroma persistent directory (no chroma.sqlite3)"}), flush=True)
        return 3
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=path, settings=Settings(anonymized_telemetry=False))
    print(json.dumps({"ready": True, "chromadb": chromadb.__version__}), flush=True)
    cache = {}

    def col(name):
        if name not in cache:
            cache[name] = client.get_collection(name=name, embedding_function=None)
        return cache[name]

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req["op"]
            if op == "collections":
                out = []
                for c in client.list_collections():
                    out.append(
                        {
                            "name": c.name,
                            "id": str(c.id),
                            "metadata": c.metadata,
                            "configuration": configuration_of(c),
                            "count": c.count(),
                        }
                    )
                res = {"collections": out}
            elif op in ("get", "get_ids"):
                kwargs = {"include": ["embeddings", "documents", "metadatas"]}
                if op == "get":
                    kwargs.update(offset=int(req["offset"]), limit=int(req["limit"]))
                else:
                    kwargs.update(ids=list(req["ids"]))
                r = col(req["collection"]).get(**kwargs)
                emb, dims = encode(r.get("embeddings"))
                res = {
                    "ids": r["ids"],
                    "documents": r.get("documents"),
                    "metadatas": r.get("metadatas"),
                    "dims": dims,
                    "emb": emb,
                }
            elif op == "stats":
                res = stats(col(req["collection"]), int(req["offset"]), int(req["limit"]))
            elif op == "query":
                import numpy as np

                raw = base64.b64decode(req["embeddings_b64"])
                q = np.frombuffer(raw, dtype="<f4").reshape(-1, int(req["dim"]))
                r = col(req["collection"]).query(
                    query_embeddings=q, n_results=int(req["k"]), include=["distances"]
                )
                res = {"ids": r["ids"], "distances": [[float(d) for d in row] for row in r["distances"]]}
            else:
                res = {"error": f"unknown op {op}", "type": "UsageError"}
        except Exception as e:  # report and keep serving
            res = {"error": str(e), "type": type(e).__name__}
        sys.stdout.write(json.dumps(res, default=str))
        sys.stdout.write("\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
