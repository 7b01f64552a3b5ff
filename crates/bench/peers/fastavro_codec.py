"""The Python peer of the codec benchmark: fastavro's schemaless writer and
reader on the same schemas and events Handoff encodes, the way a Python
consumer of the bus would decode them.

Usage: fastavro_codec.py DIR ROUNDS [REPEATS]. DIR holds <Type>.avsc and
<Type>.json (a JSON array of events in Avro's base types). Each type is
timed REPEATS times (default 1) and the fastest pass kept, as the Rust side
does. Prints, per type, events/s for encoding and decoding, as JSON."""

import io
import json
import os
import sys
import time

import fastavro

folder, rounds = sys.argv[1], int(sys.argv[2])
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
out = {}
for name in sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".avsc")):
    with open(os.path.join(folder, name + ".avsc")) as f:
        schema = fastavro.parse_schema(json.load(f))
    with open(os.path.join(folder, name + ".json")) as f:
        events = json.load(f)
    n = len(events) * rounds
    encode = decode = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        encoded = []
        for _ in range(rounds):
            for event in events:
                buf = io.BytesIO()
                fastavro.schemaless_writer(buf, schema, event)
                encoded.append(buf.getvalue())
        encode = min(encode, time.perf_counter() - started)
        started = time.perf_counter()
        for data in encoded:
            fastavro.schemaless_reader(io.BytesIO(data), schema)
        decode = min(decode, time.perf_counter() - started)
    out[name] = {"events": n, "encode_per_s": n / encode, "decode_per_s": n / decode}
print(json.dumps(out))
