#!/usr/bin/env python3
"""The user-enrolment report's SQL, or the workflow summary's grouping, on PySpark local[2].

    python3 scripts/bench/run_spark.py report DATA_DIR csv|parquet SQL_FILE OUT_DIR
    python3 scripts/bench/run_spark.py wfs-group EVENTS_DIR OUT_DIR

`report`: the warehouse files registered as temporary views of the same names (CSV with the
schema the bench spec declares), the SQL run as Spark SQL, the result written with
partitionBy("mdoid") as CSV with a header (Sunbird's own way of writing these reports). Two
spellings differ from DataFusion's: identifiers in double quotes become backquoted, and
`to_char(now(), '%d/%m/%Y %H:%M:%S %p')` becomes `date_format(current_timestamp(),
'dd/MM/yyyy HH:mm:ss a')`.

`wfs-group`: only the grouping of Sunbird's WorkFlowSummaryModel -- the day's NDJSON events
read as text, each parsed once for its key and ets, grouped by (actor.id, context.did,
context.channel, context.pdata.id) with the whole event text, each group's events sorted by
ets -- and per group its size, first/last ets and a hash of its events written as Parquet:
the floor of what the Spark job costs before it summarises anything.

Driver memory 4g (local mode runs everything in the driver), shuffle partitions 8 (for 2
cores; adaptive execution is on, as by default).
"""
import os
import re
import sys
import time

from pyspark.sql import SparkSession

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tables import SPARK, TABLES  # noqa: E402


def session():
    return (SparkSession.builder.master("local[2]").appName("pipec-bench")
            .config("spark.driver.memory", "4g")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate())


def spark_sql(sql):
    sql = "\n".join(l.split("--", 1)[0] for l in sql.splitlines())  # comments out
    sql = re.sub(r'"([A-Za-z_][A-Za-z0-9_]*)"', r"`\1`", sql)
    return sql.replace("to_char(now(), '%d/%m/%Y %H:%M:%S %p')",
                       "date_format(current_timestamp(), 'dd/MM/yyyy HH:mm:ss a')")


def report(data, fmt, sql_file, out):
    t0 = time.time()
    spark = session()
    t1 = time.time()
    for name, cols in TABLES.items():
        if fmt == "csv":
            schema = ", ".join(f"`{c}` {SPARK[t]}" for c, t in cols)
            df = spark.read.csv(f"{data}/csv/{name}.csv", header=True, schema=schema)
        else:
            df = spark.read.parquet(f"{data}/parquet/{name}.parquet")
        df.createOrReplaceTempView(name)
    df = spark.sql(spark_sql(open(sql_file).read()))
    df.write.mode("overwrite").option("header", True).partitionBy("mdoid").csv(out)
    n = len([d for d in os.listdir(out) if d.startswith("mdoid=")])
    print(f"pyspark {spark.version} {fmt}: {n} partitions; session {t1 - t0:.1f} s, "
          f"query and write {time.time() - t1:.1f} s", flush=True)
    spark.stop()


def wfs_group(events, out):
    from pyspark.sql import functions as F
    t0 = time.time()
    spark = session()
    t1 = time.time()
    # The events as text, each parsed once for its key and ets; the whole event travels
    # through the shuffle, as Sunbird's job carries each group's events to the model.
    schema = ("eid STRING, ets DOUBLE, actor STRUCT<id: STRING>, "
              "context STRUCT<did: STRING, channel: STRING, pdata: STRUCT<id: STRING>>")
    lines = spark.read.text(events)
    ev = lines.select(F.from_json("value", schema).alias("e"), F.col("value"))
    grouped = (ev.select(F.col("e.actor.id").alias("uid"), F.col("e.context.did").alias("did"),
                         F.col("e.context.channel").alias("channel"),
                         F.col("e.context.pdata.id").alias("pdata_id"),
                         F.col("e.ets").cast("long").alias("ets"), F.col("value"))
               .groupBy("uid", "did", "channel", "pdata_id")
               .agg(F.sort_array(F.collect_list(F.struct("ets", "value"))).alias("events")))
    res = grouped.select("uid", "did", "channel", "pdata_id", F.size("events").alias("n"),
                         F.col("events")[0]["ets"].alias("first_ets"),
                         F.element_at("events", -1)["ets"].alias("last_ets"),
                         F.xxhash64(F.col("events")["value"]).alias("digest"))
    res.write.mode("overwrite").parquet(out)
    n = spark.read.parquet(out).count()
    print(f"pyspark {spark.version} wfs-group: {n} groups; session {t1 - t0:.1f} s, "
          f"read, parse, group, sort and write {time.time() - t1:.1f} s", flush=True)
    spark.stop()


if __name__ == "__main__":
    if sys.argv[1] == "report":
        report(*sys.argv[2:6])
    elif sys.argv[1] == "wfs-group":
        wfs_group(*sys.argv[2:4])
    else:
        sys.exit(__doc__)
