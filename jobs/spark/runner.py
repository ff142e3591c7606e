"""Thin PySpark runner for Deal Finder job plans (see docs/engines.md).

Everything that decides *what* runs is computed on the TypeScript side (jobs/engines/spark/plan.ts,
sparkPlanOf): a plans file is a JSON array of JobPlans exactly as planJob() returns them, each
with one extra key "spark" holding the Spark-ready SQL of every statement (macros inlined), the
data-quality SQL of every output and session settings. This script only binds the inputs, runs
the statements in order and writes the outputs.

  spark-submit runner.py --plans <plans.json> [--job <name>]... [--result <result.json>]
      runs the named jobs (default: all, in file order) in one session, writes the result file
      (or prints it as one line "@@dealfinder-spark@@ <json>"), exits 1 if a job failed.
      Paths may be local or any Hadoop file system URI (s3a://...). An input is either a list
      of "files" or, in plans made before their inputs exist (EMR runs), "locations": partition
      folders whose *.parquet files are listed when the job starts.
  spark-submit runner.py --serve <host:port>
      long-lived driver for SparkEngine: connects to the engine's loopback socket (spark-submit
      does not forward stdin to Python), says {"hello": $DEALFINDER_SPARK_TOKEN, "ready": true},
      then reads one JSON line {"id": n, "plans": <path>, "result": <path>} per request and
      answers each with {"id": n, "done": true} once the result file is written;
      {"op": "exit"} or a closed socket stops it.

A result file is {"items": [{"job", "ok", "outputs": {<statement>: {"rows", "files", "dq"[, "byCode"]}},
"metrics", "durationMs", "timings", "error"}]}; "byCode" (quarantine outputs only) counts the
written rows per error_code; "rawFiles" ({"readable", "unreadable": [{"source", "reason"}]}) is
there when an input asked for "checkReadable" (EMR's raw input: files whose Parquet footer cannot
be read are left out and get one file-level quarantine record each, "quarantined" counts them;
with "requireFiles", none left fails the job with "missing-input: …").
Jobs after a failed one are not run (a batch is a dependency chain).
"""

import datetime
import json
import os
import shutil
import socket
import sys
import time
import traceback

MARK = "@@dealfinder-spark@@"

# No settings of its own: the session settings come with every plan ("spark.conf", set before the
# plan runs) and with the launch (spark-submit --conf, from sparkConf() in
# jobs/engines/spark/settings.ts, for the local driver and EMR steps alike).


def reply(obj):
    # One write per line: stdout and stderr share one pipe under spark-submit.
    sys.stdout.write(MARK + " " + json.dumps(obj) + "\n")
    sys.stdout.flush()


class Channel:
    """JSON lines over the engine's loopback socket."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        self.sock.settimeout(None)
        self.reader = self.sock.makefile("r", encoding="utf-8")
        self.writer = self.sock.makefile("w", encoding="utf-8")

    def send(self, obj):
        self.writer.write(json.dumps(obj) + "\n")
        self.writer.flush()

    def __iter__(self):
        return iter(self.reader)


def is_local(path):
    return "://" not in path or path.startswith("file:")


def local_path(path):
    return "/" + path[len("file:") :].lstrip("/") if path.startswith("file:") else path


def param_value(p):
    t, v = p["type"], p["value"]
    if t == "DATE":
        return datetime.date.fromisoformat(str(v))
    if t == "DOUBLE":
        return float(v)
    if t == "BIGINT":
        return int(v)
    return str(v)


def jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
    try:
        return float(value)  # Decimal
    except (TypeError, ValueError):
        return str(value)


def row_dict(row):
    return {} if row is None else {k: jsonable(v) for k, v in row.asDict().items()}


def readable_files(spark, files, table_path):
    """(files whose Parquet footer reads, [{source, reason}] for the others)."""
    good, bad = [], []
    for f in files:
        try:
            spark.read.parquet(f).schema
            good.append(f)
        except Exception as exc:  # noqa: BLE001 - any reader error makes the file unreadable
            source = table_path + "/" + "/".join(f.rstrip("/").split("/")[-2:])
            reason = error_text(exc).splitlines()[0].replace(f, source)[:500]
            bad.append({"source": source, "reason": reason, "bytes": file_size(spark, f)})
    return good, bad


def file_size(spark, f):
    if is_local(f):
        return os.path.getsize(local_path(f))
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(f)
    return int(hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).getFileStatus(hpath).getLen())


def write_file_records(spark, plan, out, unreadable):
    """One quarantine record per unreadable raw file, appended to the quarantine output (the same
    record pipelines/raw-input.ts writes for local runs). Returns how many were written."""
    rows = [
        (
            plan["runId"],
            plan["job"],
            u["source"],
            None,
            None,
            "unreadable_file",
            "raw file could not be read, none of its rows were processed: " + u["reason"],
            json.dumps({"file": u["source"], "bytes": u["bytes"]}, separators=(",", ":")),
        )
        for u in unreadable
    ]
    schema = (
        "run_id STRING, step STRING, source STRING, source_row BIGINT, record_id STRING, "
        "error_code STRING, message STRING, original STRING"
    )
    spark.createDataFrame(rows, schema=schema).createOrReplaceTempView("__file_records")
    try:
        df = spark.sql(f"SELECT {out['projection']['spark']} FROM __file_records AS o")
        df.coalesce(1).write.mode("append").option("compression", "snappy").parquet(out["stagingDir"])
    finally:
        spark.catalog.dropTempView("__file_records")
    return len(rows)


def list_data_files(spark, directory):
    if is_local(directory):
        d = local_path(directory)
        return [os.path.join(d, n) for n in sorted(os.listdir(d)) if is_data_file(n)]
    return [directory.rstrip("/") + "/" + n for n in list_remote(spark, directory) if is_data_file(n)]


def bind_input(spark, inp, report):
    """Temp view over an input's Parquet files, columns cast to the declared Spark types."""
    from pyspark.sql import functions as F

    cols = inp["columns"]
    extra_types = []
    if inp["partitioned"]:
        extra_types.append(("dt", "DATE"))
    if inp["provenance"]:
        extra_types += [("_source_file", "STRING"), ("_source_row", "BIGINT"), ("_source_key", "BIGINT")]
    files = list(inp["files"]) if inp.get("files") else []
    if inp.get("locations"):
        files += resolve_locations(spark, inp["locations"])
    if inp.get("checkReadable"):
        # Plans with runtime inputs (EMR) see the raw files only here: a file whose footer cannot be
        # read is left out and reported, as pipelines/raw-input.ts does before local runs.
        files, bad = readable_files(spark, files, inp["tablePath"])
        report.setdefault(inp["view"], {"readable": 0, "unreadable": []})
        report[inp["view"]]["readable"] += len(files)
        report[inp["view"]]["unreadable"] += bad
    if inp.get("requireFiles") and not files:
        where = ", ".join(inp.get("locations") or []) or inp["tablePath"]
        raise RuntimeError(f"missing-input: no readable raw file in {where} (plan with --allow-empty for an empty night)")
    if not files:
        typed = [f"CAST(NULL AS {c['spark']}) AS `{c['name']}`" for c in cols]
        typed += [f"CAST(NULL AS {t}) AS `{n}`" for n, t in extra_types]
        spark.sql("SELECT " + ", ".join(typed) + " WHERE 1 = 0").createOrReplaceTempView(inp["view"])
        return
    # Schema of the first file; columns it lacks are added as NULLs below (files of one table
    # share one writer, so a schema merge job per input is not worth its cost).
    df = spark.read.parquet(*files)
    present = {c.lower() for c in df.columns}
    exprs = [
        F.expr(
            f"CAST(`{c['name']}` AS {c['spark']})" if c["name"].lower() in present else f"CAST(NULL AS {c['spark']})"
        ).alias(c["name"])
        for c in cols
    ]
    path = F.col("_metadata.file_path")
    if inp["partitioned"]:
        exprs.append(F.regexp_extract(path, "dt=([0-9]{4}-[0-9]{2}-[0-9]{2})", 1).cast("date").alias("dt"))
    if inp["provenance"]:
        # Same value as DuckDB's: '<table path>/' + the last two segments of the file path.
        exprs.append(F.concat(F.lit(inp["tablePath"] + "/"), F.regexp_extract(path, "[^/]+/[^/]+$", 0)).alias("_source_file"))
        exprs.append(F.col("_metadata.row_index").cast("bigint").alias("_source_row"))
        # One BIGINT per input row, unique within the run (a cheap join key): the file's position
        # among the input's files times 2^32, plus the row. Only unique, not equal to DuckDB's.
        paths = sorted(r[0] for r in df.select(path).distinct().collect())
        position = F.create_map(*[x for i, p in enumerate(paths) for x in (F.lit(p), F.lit(i))])
        exprs.append(
            (position[path].cast("bigint") * F.lit(4294967296) + F.col("_metadata.row_index").cast("bigint")).alias(
                "_source_key"
            )
        )
    df.select(*exprs).createOrReplaceTempView(inp["view"])


def is_data_file(name):
    return name.endswith(".parquet") and not name.startswith((".", "_"))


def resolve_locations(spark, locations):
    """Parquet files in the given partition folders, listed now (EMR plans are made before the
    steps that write their inputs run). A missing folder is an empty partition."""
    files = []
    for loc in locations:
        if is_local(loc):
            d = local_path(loc)
            names = sorted(n for n in os.listdir(d) if is_data_file(n)) if os.path.isdir(d) else []
            prefix = loc if loc.endswith("/") else loc + "/"
            files += [prefix + n for n in names]
        else:
            jvm = spark.sparkContext._jvm
            hpath = jvm.org.apache.hadoop.fs.Path(loc)
            fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
            if not fs.exists(hpath):
                continue
            names = sorted(s.getPath().getName() for s in fs.listStatus(hpath) if s.isFile())
            prefix = loc if loc.endswith("/") else loc + "/"
            files += [prefix + n for n in names if is_data_file(n)]
    return files


def write_single_parquet(df, directory):
    """One Parquet file in `directory` (replaced), named part-00000.parquet on local disks, no side files."""
    local = is_local(directory)
    if local:
        shutil.rmtree(local_path(directory), ignore_errors=True)
    df.coalesce(1).write.mode("overwrite").option("compression", "snappy").parquet(directory)
    if not local:
        return [directory.rstrip("/") + "/" + name for name in list_remote(df.sparkSession, directory)]
    d = local_path(directory)
    parts = sorted(n for n in os.listdir(d) if n.endswith(".parquet") and not n.startswith((".", "_")))
    for name in os.listdir(d):
        if name not in parts:
            os.remove(os.path.join(d, name))  # _SUCCESS, .crc
    files = []
    for i, name in enumerate(parts):
        target = os.path.join(d, f"part-{i:05d}.parquet")
        os.rename(os.path.join(d, name), target)
        files.append(target)
    return files


def list_remote(spark, directory):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(directory)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return sorted(s.getPath().getName() for s in fs.listStatus(hpath) if s.getPath().getName().endswith(".parquet"))


def run_item(spark, plan):
    from pyspark import StorageLevel

    extra = plan["spark"]
    started = time.perf_counter()
    for k, v in extra.get("conf", {}).items():
        spark.conf.set(k, v)
    for stmt in extra.get("macroStatements", []):
        spark.sql(stmt)
    args = {name: param_value(p) for name, p in plan["params"].items()}
    outputs_by_stmt = {o["statement"]: o for o in plan["outputs"]}
    views, cached, timings, raw_report = [], [], [], {}
    outputs, metrics = {}, {"rows_in": 0, "deduplicated": 0, "filtered": 0}
    try:
        t0 = time.perf_counter()
        for inp in plan["inputs"]:
            bind_input(spark, inp, raw_report)
            views.append(inp["view"])
        timings.append({"statement": "(inputs)", "ms": (time.perf_counter() - t0) * 1000})
        for s in extra["statements"]:
            t0 = time.perf_counter()
            kind, name, sql = s["kind"], s["name"], s["sql"]
            if kind in ("table", "view"):
                df = spark.sql(sql, args=args)
                if kind == "table":
                    # Computed once, on first use, like DuckDB's temp tables: later readers see the
                    # same rows (no separate count job: it costs more than it saves at our sizes).
                    df = df.persist(StorageLevel.MEMORY_AND_DISK)
                    cached.append(df)
                df.createOrReplaceTempView(name)
                views.append(name)
            elif kind == "metrics":
                row = row_dict(spark.sql(sql, args=args).first())
                metrics = {k: int(row.get(k) or 0) for k in ("rows_in", "deduplicated", "filtered")}
            else:
                out = outputs_by_stmt[name]
                df = spark.sql(f"SELECT {out['projection']['spark']} FROM ({sql}) AS o", args=args)
                files = write_single_parquet(df, out["stagingDir"])
                dq_view = extra["dqViews"][name]
                spark.read.parquet(*files).createOrReplaceTempView(dq_view)
                views.append(dq_view)
                dq = row_dict(spark.sql(extra["dq"][name]).first())
                outputs[name] = {"rows": int(dq.get("row_count") or 0), "files": files, "dq": dq}
                if out["table"] == "quarantine":
                    # Counted here, where the rows were written (on EMR the TS side cannot read them).
                    by_code = spark.sql(f"SELECT error_code, count(*) AS n FROM {dq_view} GROUP BY error_code")
                    outputs[name]["byCode"] = {str(r["error_code"]): int(r["n"]) for r in by_code.collect()}
            timings.append({"statement": name, "ms": (time.perf_counter() - t0) * 1000})
        unreadable = [u for r in raw_report.values() for u in r["unreadable"]]
        quarantine = next((o for o in plan["outputs"] if o["table"] == "quarantine"), None)
        file_records = 0
        if unreadable and quarantine and quarantine["statement"] in outputs:
            file_records = write_file_records(spark, plan, quarantine, unreadable)
            outputs[quarantine["statement"]]["files"] = list_data_files(spark, quarantine["stagingDir"])
    finally:
        for df in cached:
            df.unpersist()
        for v in views:
            spark.catalog.dropTempView(v)
    result = {
        "job": plan["job"],
        "ok": True,
        "outputs": outputs,
        "metrics": metrics,
        "durationMs": (time.perf_counter() - started) * 1000,
        "timings": timings,
    }
    if raw_report:
        result["rawFiles"] = {
            "readable": sum(r["readable"] for r in raw_report.values()),
            "unreadable": unreadable,
            "quarantined": file_records,
        }
    return result



def error_text(exc):
    """The error's message and its Java root causes, without the stack frames."""
    lines = (str(exc).strip() or exc.__class__.__name__).splitlines()
    head, causes = [], []
    in_stack = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("Caused by:"):
            causes.append(stripped)
        elif stripped.startswith(("at ", "JVM stacktrace:", "...")) or in_stack:
            in_stack = True
        elif stripped:
            head.append(line)
    return "\n".join(head[:20] + causes[-3:])[:6000]


def read_text(spark, path):
    if is_local(path):
        with open(local_path(path), encoding="utf-8") as f:
            return f.read()
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = fs.open(hpath)
    try:
        return jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def write_text(spark, path, text):
    if is_local(path):
        target = local_path(path)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(target + ".tmp", target)
        return
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = fs.create(hpath, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def run_plans(spark, plans, jobs=None):
    """Runs the plans (those of `jobs` when given) in order; stops at the first failure."""
    selected = [p for p in plans if not jobs or p["job"] in jobs]
    missing = sorted(set(jobs or []) - {p["job"] for p in selected})
    if missing:
        raise ValueError(f"no plan for job(s) {', '.join(missing)} in the plans file")
    results, failed = [], False
    for plan in selected:
        if failed:
            results.append({"job": plan["job"], "ok": False, "error": "not run: an earlier job failed"})
            continue
        try:
            results.append(run_item(spark, plan))
        except Exception as exc:  # noqa: BLE001 - reported to the caller, which decides
            failed = True
            results.append(
                {
                    "job": plan["job"],
                    "ok": False,
                    "error": error_text(exc),
                    "errorClass": exc.__class__.__name__,
                    "traceback": traceback.format_exc()[-4000:],
                }
            )
    return {"items": results}, not failed


def session():
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("dealfinder").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def serve(address):
    spark = session()
    channel = Channel(address)
    channel.send(
        {
            "hello": os.environ.get("DEALFINDER_SPARK_TOKEN", ""),
            "ready": True,
            "spark": spark.version,
            "master": spark.sparkContext.master,
            "pid": os.getpid(),
        }
    )
    for line in channel:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError:
            channel.send({"id": None, "fatal": "request is not JSON"})
            continue
        if req.get("op") == "exit":
            break
        try:
            result, _ = run_plans(spark, json.loads(read_text(spark, req["plans"])))
            write_text(spark, req["result"], json.dumps(result))
            channel.send({"id": req.get("id"), "done": True})
        except Exception as exc:  # noqa: BLE001 - unreadable request or unwritable result
            channel.send({"id": req.get("id"), "fatal": error_text(exc)[:2000]})
    spark.stop()


def usage_error(message):
    """A bad invocation: exit 2 (a failed job exits 1), as docs/engines.md says."""
    sys.stderr.write(f"runner.py: {message}\n{__doc__}")
    raise SystemExit(2)


def parse_args(argv):
    opts = {"plans": None, "jobs": [], "result": None, "serve": None}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("--serve", "--plans", "--job", "--result") and i + 1 < len(argv):
            i += 1
            if a == "--job":
                opts["jobs"].append(argv[i])
            elif a == "--serve":
                opts["serve"] = argv[i]
            else:
                opts[a[2:]] = argv[i]
        else:
            usage_error(f"unexpected argument {a!r}")
        i += 1
    if not opts["serve"] and not opts["plans"]:
        usage_error("--plans or --serve is required")
    return opts


def main(argv):
    opts = parse_args(argv)
    if opts["serve"]:
        serve(opts["serve"])
        return 0
    spark = session()
    try:
        try:
            result, ok = run_plans(spark, json.loads(read_text(spark, opts["plans"])), opts["jobs"])
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"runner.py: {exc}\n")
            return 2
        if opts["result"]:
            write_text(spark, opts["result"], json.dumps(result))
        else:
            reply(result)
        for item in result["items"]:
            if not item["ok"]:
                sys.stderr.write(f"job {item['job']} failed: {item['error']}\n")
        return 0 if ok else 1
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
