"""Counts failures to appear per federal fiscal year from a Handoff export,
the way an analyst would in DuckDB: one missed hearing per child and day
(EOIR may report one twice). Prints {"parquet": {...}, "csv": {...}}."""

import json
import sys

import duckdb

parquet_dir, csv_dir = sys.argv[1], sys.argv[2]

QUERY = """
SELECT 'FY' || CAST(CASE WHEN month(hearing_at) >= 10 THEN year(hearing_at) + 1
                         ELSE year(hearing_at) END AS VARCHAR) AS fiscal_year,
       COUNT(DISTINCT (a_number, CAST(hearing_at AS DATE))) AS ftas
FROM {source}
GROUP BY 1 ORDER BY 1
"""

con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
out = {}
for name, source in [
    ("parquet", f"read_parquet('{parquet_dir}/FailedToAppear.parquet')"),
    ("csv", f"read_csv('{csv_dir}/FailedToAppear.csv', header = true, timestampformat = '%Y-%m-%dT%H:%M:%S.%gZ')"),
]:
    rows = con.execute(QUERY.format(source=source)).fetchall()
    out[name] = {fy: n for fy, n in rows}
# Types survive: timestamps are timestamps, not text.
kind = con.execute(
    f"SELECT typeof(hearing_at), typeof(occurred_at) FROM read_parquet('{parquet_dir}/FailedToAppear.parquet') LIMIT 1"
).fetchone()
out["parquet_types"] = list(kind)
print(json.dumps(out))
