"""Tiny PySpark job for the Spark smoke test.

  spark-submit spark_smoke_job.py <input parquet> <output dir>

Reads deals (id, category, price DECIMAL(10,2), seen_at TIMESTAMP, seen_at_tz
TIMESTAMPTZ, title) written by DuckDB, aggregates per category and writes one
Parquet file into <output dir>. Prints one JSON line with timings and the schema
Spark inferred, so the test can report spark-submit's overhead.
"""

import json
import sys
import time

T0 = time.time()

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402


def main() -> int:
    src, dst = sys.argv[1], sys.argv[2]
    t_import = time.time()
    spark = SparkSession.builder.appName("dealfinder-smoke").getOrCreate()
    t_session = time.time()
    deals = spark.read.parquet(src)
    schema = {f.name: f.dataType.simpleString() for f in deals.schema.fields}
    out = (
        deals.where(F.col("price") > 0)
        .groupBy("category")
        .agg(
            F.count("*").alias("n"),
            F.sum("price").alias("total_price"),
            F.max("seen_at").alias("last_seen"),
            F.max("seen_at_tz").alias("last_seen_tz"),
            F.max(F.length("title")).alias("max_title_len"),
        )
        .orderBy("category")
    )
    out.coalesce(1).write.mode("overwrite").parquet(dst)
    t_done = time.time()
    print(
        json.dumps(
            {
                "spark": spark.version,
                "master": spark.sparkContext.master,
                "ui": spark.conf.get("spark.ui.enabled"),
                "driver_host": spark.conf.get("spark.driver.host"),
                "shuffle_partitions": spark.conf.get("spark.sql.shuffle.partitions"),
                "input_schema": schema,
                "output_schema": {f.name: f.dataType.simpleString() for f in out.schema.fields},
                "python_start_to_import_s": round(t_import - T0, 3),
                "session_s": round(t_session - t_import, 3),
                "job_s": round(t_done - t_session, 3),
            }
        ),
        flush=True,
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
