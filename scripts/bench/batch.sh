#!/usr/bin/env bash
# The batch-stage benchmark (BENCHMARKS.md, "Batch stage"), side by side in one run:
#
#   1. the user-enrolment report (scripts/bench/spec, a copy of pipelines/igot's SQL) over a
#      generated warehouse of 2 million users and 10 million enrolments, as CSV and as
#      Parquet, one CSV per MDO: pipec report, DuckDB, PySpark local[2];
#   1b. the same report as pipelines/igot runs it, reading the warehouse from PostgreSQL
#      (the generated CSV files loaded with COPY into a database of its own), beside
#      PostgreSQL running the same SQL itself (psql \copy of the query to a file);
#   2. the workflow summary of pipelines/igot over a 2-million-event day of the `unique`
#      backup (events/s), and over a 5-million-event day with --memory-limit 512MiB (peak
#      RSS); PySpark local[2] doing only the grouping of the 2-million-event day.
#
# Wall time and peak RSS of each, from /usr/bin/time -v (and, for the JVM under PySpark,
# the peak of the process tree: scripts/bench/measure.py).
#
#   scripts/bench/batch.sh [DATA_DIR]          # default /tmp/pipec-bench (never the repository)
#
# Environment: PIPEC (default target/release/pipec), VENV (default
# ~/.cache/pipec-bench-venv; made and filled with numpy, pyarrow, duckdb, pyspark when
# missing), USERS/ENROLMENTS (2000000/10000000), EVENTS/BIG_EVENTS (2000000/5000000),
# ONLY (a space-separated subset of: pipec duckdb spark pg wfs wfs-big wfs-spark), FORMATS
# (default "csv parquet"), PIPEC_ARGS (more flags for the pipec report runs), NICE
# (default "nice -n 10"), BENCH_PG (the server for the `pg` case, default
# postgres://pipec:pipec@127.0.0.1:5432; the script makes and fills the database
# pipec_bench_warehouse on it, and reuses it while the data is the same). Generated data is
# kept and reused when its size matches.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${1:-/tmp/pipec-bench}
case "$data" in "$repo"|"$repo"/*) echo "DATA_DIR must be outside the repository" >&2; exit 2 ;; esac
mkdir -p "$data"
data=$(cd "$data" && pwd)
pipec=${PIPEC:-$repo/target/release/pipec}
venv=${VENV:-$HOME/.cache/pipec-bench-venv}
users=${USERS:-2000000}
enrolments=${ENROLMENTS:-10000000}
events=${EVENTS:-2000000}
big_events=${BIG_EVENTS:-5000000}
only=${ONLY:-pipec duckdb spark pg wfs wfs-big wfs-spark}
bench_pg=${BENCH_PG:-postgres://pipec:pipec@127.0.0.1:5432}
formats=${FORMATS:-csv parquet}
read -r -a pipec_args <<< "${PIPEC_ARGS:-}"
nice=${NICE:-nice -n 10}
date=2024-06-14      # the warehouse's report date, and the telemetry day
next=2024-06-15      # the workflow summary runs the day after (it reads `yesterday`)
results=$data/results.txt
wh=$data/warehouse

want() { [[ " $only " == *" $1 "* ]]; }
log() { printf '== %s\n' "$*" >&2; }

# The Python environment: a venv with what the generators and the other engines need.
if ! "$venv/bin/python" -c 'import numpy, pyarrow, duckdb, pyspark' 2>/dev/null; then
    log "making $venv"
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
    missing=()
    for m in numpy pyarrow duckdb pyspark; do
        "$venv/bin/python" -c "import $m" 2>/dev/null || missing+=("$m")
    done
    "$venv/bin/pip" install -q "${missing[@]}"
fi
py=$venv/bin/python
[[ -x $pipec ]] || { echo "no $pipec: cargo build --release first" >&2; exit 2; }

# The data, made once per size.
stamp="users=$users enrolments=$enrolments"
if [[ $(cat "$wh/.made" 2>/dev/null) != "$stamp" ]]; then
    log "generating the warehouse ($stamp)"
    rm -rf "$wh"
    $nice "$py" "$here/gen_warehouse.py" "$wh" --users "$users" --enrolments "$enrolments"
    echo "$stamp" > "$wh/.made"
fi
day() { # DIR N: a day of N events under DIR
    if [[ $(cat "$1/.made" 2>/dev/null) != "events=$2" ]]; then
        log "generating $2 telemetry events in $1"
        rm -rf "$1"
        $nice python3 "$here/gen_telemetry.py" "$1" --events "$2" --date "$date"
        echo "events=$2" > "$1/.made"
    fi
}
want wfs || want wfs-spark && day "$data/wfs-$events" "$events"
want wfs-big && day "$data/wfs-$big_events" "$big_events"

warm() { cat "$@" > /dev/null; }  # the inputs in the page cache, for every engine alike
measure() { # LABEL CMD...: one line of results
    local label=$1; shift
    $nice "$py" "$here/measure.py" "$label" "$data/logs/${label// /_}.log" -- "$@" | tee -a "$results"
}
outputs() { # DIR: how many files a run wrote, then the files removed (a report is ~3 GiB of CSV)
    echo "#   $(find "$1" -type f -name '*.csv' | wc -l) CSV files, $(du -sh "$1" | cut -f1) in $1" | tee -a "$results"
    rm -rf "$1"
}
mkdir -p "$data/logs" "$data/spill"
{
    echo "# $(date -u +%FT%TZ) $(uname -srm); $(nproc) cores; $(free -g | awk '/Mem:/ {print $2}') GiB"
    echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "# pipec $(git -C "$repo" rev-parse --short HEAD); load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$results"

sql=$here/../../pipelines/igot/sql/user_enrolment_report.sql
# pipec and DuckDB side by side per format, then the workflow summary, then PySpark (the
# slowest) last.
for fmt in $formats; do
    warm "$wh/$fmt"/*
    if want pipec; then
        measure "pipec-report-$fmt${PIPEC_ARGS:+ $PIPEC_ARGS}" "$pipec" report "user-enrolment-report-$fmt" "$here/spec" \
            --date "$date" --data-dir "$wh" --spill-dir "$data/spill" "${pipec_args[@]}"
        outputs "$wh/out/pipec-$fmt"
    fi
    if want duckdb; then
        measure "duckdb-$fmt" "$py" "$here/run_duckdb.py" "$wh" "$fmt" "$sql" "$wh/out/duckdb-$fmt"
        outputs "$wh/out/duckdb-$fmt"
    fi
done
if want pg; then
    # The warehouse in PostgreSQL: igot's DDL, then each table's CSV with COPY (the files
    # carry the DDL's columns in its order). Loaded once per generated warehouse.
    db=pipec_bench_warehouse
    url=$bench_pg/$db
    if [[ $(psql "$url" -Atc "SELECT stamp FROM bench_stamp" 2>/dev/null) != "$stamp" ]]; then
        log "loading the warehouse into $url"
        psql "$bench_pg/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
        psql "$url" -q -v ON_ERROR_STOP=1 -f "$repo/pipelines/igot/sql/warehouse-schema.sql"
        for t in user_enrolments user_detail org_hierarchy content; do
            psql "$url" -q -v ON_ERROR_STOP=1 -c "\\copy $t FROM '$wh/csv/$t.csv' CSV HEADER"
        done
        psql "$url" -q -v ON_ERROR_STOP=1 -c "VACUUM ANALYZE" \
            -c "CREATE TABLE bench_stamp(stamp text)" -c "INSERT INTO bench_stamp VALUES ('$stamp')"
    fi
    # The spec takes the password from WAREHOUSE_PASSWORD, not from the URL.
    pg_user_url=$(sed -E 's#^(postgres(ql)?://[^:/@]+):[^@]*@#\1@#' <<<"$url")
    pg_password=$(sed -nE 's#^postgres(ql)?://[^:/@]+:([^@]*)@.*#\2#p' <<<"$url")
    WAREHOUSE_URL=$pg_user_url WAREHOUSE_PASSWORD=$pg_password measure "pipec-report-postgres${PIPEC_ARGS:+ $PIPEC_ARGS}" "$pipec" report user-enrolment-report \
        "$repo/pipelines/igot" --date "$date" --data-dir "$wh/out/pg" --spill-dir "$data/spill" "${pipec_args[@]}"
    outputs "$wh/out/pg"
    # PostgreSQL runs the same SQL and writes one CSV (it has no partitioned COPY); to_char
    # takes PostgreSQL's pattern for the same format, and round(x, 2) a numeric.
    pg_sql=$(grep -v '^ *--' "$sql" | sed -e 's/--.*$//' \
        -e "s|to_char(now(), '%d/%m/%Y %H:%M:%S %p')|to_char(now(), 'DD/MM/YYYY HH12:MI:SS AM')|" \
        -e 's|round(e.content_progress_percentage, 2)|round(e.content_progress_percentage::numeric, 2)|' | tr '\n' ' ')
    mkdir -p "$wh/out/pg-psql"
    measure "postgres-itself" psql "$url" -v ON_ERROR_STOP=1 -c "\\copy ($pg_sql) TO '$wh/out/pg-psql/report.csv' CSV HEADER"
    outputs "$wh/out/pg-psql"
fi
if want wfs; then
    d=$data/wfs-$events
    warm "$d/backups/telemetry.unique/$date"/*
    measure "pipec-wfs-$events" "$pipec" report workflow-summary "$repo/pipelines/igot" \
        --date "$next" --data-dir "$d" --out "$d/out-run"
fi
if want wfs-big; then
    d=$data/wfs-$big_events
    mkdir -p "$d/spill"
    measure "pipec-wfs-$big_events-512MiB" "$pipec" report workflow-summary "$repo/pipelines/igot" \
        --date "$next" --data-dir "$d" --out "$d/out-run" --memory-limit 512MiB --spill-dir "$d/spill"
fi
if want wfs-spark; then
    d=$data/wfs-$events
    warm "$d/backups/telemetry.unique/$date"/*
    measure "pyspark-wfs-group-$events" "$py" "$here/run_spark.py" wfs-group \
        "$d/backups/telemetry.unique/$date" "$d/out-spark"
fi
for fmt in $formats; do
    if want spark; then
        warm "$wh/$fmt"/*
        measure "pyspark-$fmt" "$py" "$here/run_spark.py" report "$wh" "$fmt" "$sql" "$wh/out/pyspark-$fmt"
        outputs "$wh/out/pyspark-$fmt"
    fi
done
log "results appended to $results; logs in $data/logs"
