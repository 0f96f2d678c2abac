#!/usr/bin/env python3
"""The user-enrolment report's SQL on DuckDB over the same files pipec reads.

    python3 scripts/bench/run_duckdb.py DATA_DIR csv|parquet SQL_FILE OUT_DIR

Registers each warehouse table as a view of the same name over DATA_DIR/<format>/<table>.*
(CSV read with the columns and types the bench spec declares), runs the SQL, and writes the
result partitioned by `mdoid` as CSV, one folder per MDO (COPY ... PARTITION_BY, which
leaves the partition column out of the files, as pipec and Spark do). The one function
DuckDB lacks, `to_char(now(), '%d/%m/%Y ...')`, becomes its `strftime` with the same format.
Threads and memory: DuckDB's defaults (all cores, 80 % of RAM).
"""
import os
import shutil
import sys
import time

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tables import DUCKDB, TABLES  # noqa: E402


def main():
    data, fmt, sql_file, out = sys.argv[1:5]
    sql = open(sql_file).read().replace("to_char(now(),", "strftime(now(),")
    t0 = time.time()
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for name, cols in TABLES.items():
        if fmt == "csv":
            spec = "{" + ", ".join(f"'{c}': '{DUCKDB[t]}'" for c, t in cols) + "}"
            src = f"read_csv('{data}/csv/{name}.csv', header=true, columns={spec})"
        else:
            src = f"read_parquet('{data}/parquet/{name}.parquet')"
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {src}")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    con.execute(f"COPY ({sql}) TO '{out}' (FORMAT CSV, HEADER, PARTITION_BY (mdoid))")
    dirs = len(os.listdir(out))
    print(f"duckdb {duckdb.__version__} {fmt}: {dirs} partitions in {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
