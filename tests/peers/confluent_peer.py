"""A stock Confluent client, for interop tests: what an agency's own Python
system would run. It produces with confluent-kafka's AvroSerializer and
consumes with its AvroDeserializer against Handoff's schema registry.

    confluent_peer.py produce --brokers B --registry R --topic T --schema FILE --value FILE --key K
    confluent_peer.py consume --brokers B --registry R --topic T --count N
    confluent_peer.py topics --brokers B

`consume` prints one JSON object per record: timestamps as epoch
milliseconds and dates as days since 1970-01-01, so the caller can compare
them with the raw Avro values.
"""

import argparse
import datetime
import json
import sys

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import SchemaRegistryClient, topic_record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def plain(value):
    """Logical types back to their Avro base values."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return int((value - EPOCH).total_seconds() * 1000)
    if isinstance(value, datetime.date):
        return (value - EPOCH.date()).days
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def produce(args):
    registry = SchemaRegistryClient({"url": args.registry})
    with open(args.schema) as f:
        schema = f.read()
    with open(args.value) as f:
        value = json.load(f)
    serializer = AvroSerializer(
        registry,
        schema,
        conf={"auto.register.schemas": True, "subject.name.strategy": topic_record_subject_name_strategy},
    )
    producer = Producer({"bootstrap.servers": args.brokers, "acks": "all", "enable.idempotence": True})
    payload = serializer(value, SerializationContext(args.topic, MessageField.VALUE))
    errors = []
    producer.produce(args.topic, key=args.key, value=payload, on_delivery=lambda err, msg: errors.append(err))
    producer.flush(30)
    if not errors or errors[0] is not None:
        sys.exit(f"delivery failed: {errors}")
    print(json.dumps({"schema_id": int.from_bytes(payload[1:5], "big")}))


def consume(args):
    registry = SchemaRegistryClient({"url": args.registry})
    deserializer = AvroDeserializer(registry)
    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([args.topic])
    seen = 0
    idle = 0
    while seen < args.count and idle < 300:
        msg = consumer.poll(0.1)
        if msg is None:
            idle += 1
            continue
        if msg.error():
            sys.exit(f"consume error: {msg.error()}")
        value = deserializer(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE))
        print(json.dumps(plain(value)), flush=True)
        seen += 1
    consumer.close()
    if seen < args.count:
        sys.exit(f"only {seen} of {args.count} records arrived")


def topics(args):
    """Lists the cluster's topics with AdminClient, one per line."""
    admin = AdminClient({"bootstrap.servers": args.brokers})
    metadata = admin.list_topics(timeout=30)
    for name in sorted(metadata.topics):
        print(name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["produce", "consume", "topics"])
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--registry")
    parser.add_argument("--topic")
    parser.add_argument("--schema")
    parser.add_argument("--value")
    parser.add_argument("--key", default="")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--group", default="python-peer")
    args = parser.parse_args()
    {"produce": produce, "consume": consume, "topics": topics}[args.mode](args)


if __name__ == "__main__":
    main()
