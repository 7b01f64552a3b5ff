"""The Python peer of the replay benchmark: what an agency analyst would
write to count failures to appear and the NTA backlog from the bus, with
confluent-kafka's consumer and its AvroDeserializer (fastavro underneath)
against Handoff's schema registry, into SQLite.

Usage: replay_peer.py BROKERS REGISTRY_URL DB

It reads the three agency topics from the beginning to their ends as they
are when it starts, keeps one row per missed hearing (child and day) and
one row per released child, and prints as JSON the events read, the
seconds taken, the FTAs and the released children never served an NTA.
"""

import json
import sqlite3
import sys
import time

from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

TOPICS = ["handoff.ice.v1", "handoff.hhs.v1", "handoff.doj.v1"]
PREFIX = "gov.handoff.v1."

brokers, registry_url, db_path = sys.argv[1], sys.argv[2], sys.argv[3]
started = time.perf_counter()

db = sqlite3.connect(db_path)
db.executescript(
    """
    CREATE TABLE ftas (a_number TEXT, hearing_day TEXT, hearing_at TEXT,
                       PRIMARY KEY (a_number, hearing_day));
    CREATE TABLE children (a_number TEXT PRIMARY KEY, released_at TEXT,
                           nta_served INTEGER DEFAULT 0, nta_filed INTEGER DEFAULT 0);
    """
)

deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))
consumer = Consumer(
    {
        "bootstrap.servers": brokers,
        "group.id": "replay-peer",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
    }
)

# Every partition from the beginning to its end now (no consumer group:
# a one-off read).
ends = {}
assignment = []
for topic in TOPICS:
    for p in consumer.list_topics(topic, timeout=30).topics[topic].partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
        if high > low:
            ends[(topic, p)] = high
            assignment.append(TopicPartition(topic, p, OFFSET_BEGINNING))
consumer.assign(assignment)

events = 0
while ends:
    batch = consumer.consume(1000, timeout=1.0)
    for msg in batch:
        if msg.error():
            sys.exit(f"consume error: {msg.error()}")
        key = (msg.topic(), msg.partition())
        if msg.offset() + 1 >= ends.get(key, 0):
            ends.pop(key, None)
        kind = dict(msg.headers() or []).get("ce_type", b"").decode()[len(PREFIX):]
        value = deserialize(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE))
        events += 1
        a_number = value["meta"]["a_number"]
        at = value["meta"]["occurred_at"].isoformat()
        if kind == "FailedToAppear":
            hearing = value["hearing_at"]
            db.execute(
                "INSERT OR IGNORE INTO ftas VALUES (?, ?, ?)",
                (a_number, hearing.date().isoformat(), hearing.isoformat()),
            )
        elif kind == "ReleasedToSponsor":
            db.execute(
                "INSERT INTO children (a_number, released_at) VALUES (?, ?) "
                "ON CONFLICT (a_number) DO UPDATE SET released_at = excluded.released_at",
                (a_number, at),
            )
        elif kind in ("NoticeToAppearServed", "NoticeToAppearFiled"):
            column = "nta_served" if kind == "NoticeToAppearServed" else "nta_filed"
            db.execute(
                f"INSERT INTO children (a_number, {column}) VALUES (?, 1) "
                f"ON CONFLICT (a_number) DO UPDATE SET {column} = 1",
                (a_number,),
            )
    db.commit()
consumer.close()

ftas = db.execute("SELECT COUNT(*) FROM ftas").fetchone()[0]
backlog = db.execute(
    "SELECT COUNT(*) FROM children WHERE released_at IS NOT NULL AND nta_served = 0 AND nta_filed = 0"
).fetchone()[0]
db.close()
print(
    json.dumps(
        {
            "events": events,
            "seconds": time.perf_counter() - started,
            "ftas": ftas,
            "nta_backlog": backlog,
        }
    )
)
