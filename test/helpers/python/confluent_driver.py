"""Drives confluent-kafka (librdkafka's Python client) for StreamHouse tests.

Reads one JSON request on stdin: {"bootstrap": "host:port", "actions": [...]}, runs the actions in
order and prints one JSON document on stdout: {"results": [...]}, one result per action. An
action that fails gives {"ok": false, "error": {...}} and the later actions still run, so a test
sees every outcome. Exit codes: 0 ran, 2 bad request, 3 confluent_kafka cannot be imported.

Actions (every one takes an optional "config" dict of librdkafka properties):
  {"op": "produce", "topic", "messages": [{"value", "key"?, "partition"?, "headers"?: {k: v}}],
   "transactionalId"?, "abort"?: bool, "intervalMs"?: pause between two produce() calls}
      -> {"ok", "delivered": [{"partition", "offset", "error", "value", "at"}]}  (with "abort", ok
      once aborted; "at" is time.time() of the delivery report)
  {"op": "consume", "topics": [...], "group"?, "maxMessages", "timeoutS"?,
   "assign"?: [{"topic", "partition", "offset"}]}
      -> {"ok", "messages": [{"topic", "partition", "offset", "key", "value", "headers", "timestamp"}]}
  {"op": "groupMember", "topics": [...], "group", "durationS", "maxMessages"?, "stopFile"?,
   "tolerateErrors"?: bool}
      a group member that commits each record synchronously after reading it, for durationS
      (or until maxMessages): -> {"ok", "messages": [{"partition", "offset", "value", "at", "seq"}],
      "commits": [{"partition", "offset", "at", "seq"}], "events": [{"ev": "assign"|"revoke"|"lost",
      "partitions": [...], "at"}], "errors": [...]}; "at" is time.time() in seconds, "seq" orders
      messages and commits. With "stopFile", once that file exists (JSON {partition: end offset})
      the member retries its failed commits and stops when every listed partition is committed up
      to its end. With "tolerateErrors", errors polled are recorded in "errors" instead of ending
      the action (a test running the member through broker disruptions).
  {"op": "createTopics", "topics": [{"name", "partitions"?, "replicationFactor"?, "config"?}]}
  {"op": "deleteTopics", "topics": [names]}          -> {"ok", "topics": {name: null | error}}
  {"op": "metadata", "topic"?}                       -> {"ok", "brokers": [...], "topics": {...}}
Keys and values are UTF-8 strings (or null).
"""

import json
import sys
import time

try:
    import confluent_kafka
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError as exc:  # the TS side turns this into an install hint
    print(json.dumps({"missingModule": str(exc)}))
    sys.exit(3)


def error_json(err):
    if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
        err = err.args[0]
    if isinstance(err, KafkaError):
        return {"code": err.code(), "name": err.name(), "message": err.str(), "retriable": err.retriable()}
    return {"code": None, "name": type(err).__name__, "message": str(err)}


def text(b):
    return None if b is None else b.decode("utf-8", errors="replace")


def pace(producer, seconds):
    """Waits `seconds` while serving delivery reports (poll returns early when it served one)."""
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        producer.poll(left)


def produce(bootstrap, action):
    conf = {"bootstrap.servers": bootstrap, **action.get("config", {})}
    txn = action.get("transactionalId")
    if txn:
        conf["transactional.id"] = txn
    producer = Producer(conf)
    delivered = []

    def on_delivery(err, msg):
        delivered.append({
            "partition": msg.partition(),
            "offset": msg.offset() if err is None else None,
            "error": None if err is None else error_json(err),
            "value": text(msg.value()),
            "at": time.time(),
        })

    timeout = action.get("timeoutS", 30)
    if txn:
        producer.init_transactions(timeout)
        producer.begin_transaction()
    for m in action["messages"]:
        kwargs = {"value": m.get("value"), "on_delivery": on_delivery}
        if m.get("key") is not None:
            kwargs["key"] = m["key"]
        if m.get("partition") is not None:
            kwargs["partition"] = m["partition"]
        if m.get("headers"):
            kwargs["headers"] = list(m["headers"].items())
        producer.produce(action["topic"], **kwargs)
        producer.poll(0)
        pace(producer, action.get("intervalMs", 0) / 1000)
    if txn:
        if action.get("abort"):
            producer.abort_transaction(timeout)
        else:
            producer.commit_transaction(timeout)
    left = producer.flush(timeout)
    if left:
        raise RuntimeError(f"{left} messages still undelivered after {timeout} s")
    # An abort purges the messages not yet delivered (_PURGE_QUEUE): that is its success.
    aborted = bool(txn and action.get("abort"))
    return {"ok": aborted or all(d["error"] is None for d in delivered), "delivered": delivered}


def consume(bootstrap, action):
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": action.get("group", "confluent-driver"),
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
        **action.get("config", {}),
    }
    consumer = Consumer(conf)
    messages = []
    try:
        if action.get("assign"):
            consumer.assign([TopicPartition(a["topic"], a["partition"], a.get("offset", -2)) for a in action["assign"]])
        else:
            consumer.subscribe(action["topics"])
        deadline = time.monotonic() + action.get("timeoutS", 30)
        want = action["maxMessages"]
        while len(messages) < want and time.monotonic() < deadline:
            msg = consumer.poll(min(1.0, max(0.0, deadline - time.monotonic())))
            if msg is None:
                continue
            if msg.error():
                raise KafkaException(msg.error())
            messages.append({
                "topic": msg.topic(),
                "partition": msg.partition(),
                "offset": msg.offset(),
                "key": text(msg.key()),
                "value": text(msg.value()),
                "headers": {k: text(v) for k, v in (msg.headers() or [])},
                "timestamp": msg.timestamp()[1],
            })
    finally:
        consumer.close()
    return {"ok": len(messages) == action["maxMessages"], "messages": messages}


def read_stop_file(path):
    """The end offset per partition once the test wrote the stop file, else None."""
    try:
        with open(path) as f:
            return {int(p): int(o) for p, o in json.load(f).items()}
    except (FileNotFoundError, ValueError):
        return None  # not written yet, or half written: look again later


def group_member(bootstrap, action):
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": action["group"],
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
        **action.get("config", {}),
    }
    consumer = Consumer(conf)
    messages, commits, events, errors = [], [], [], []
    committed, pending = {}, {}  # per partition: next offset acknowledged / not yet acknowledged
    topic = action["topics"][0]
    seq = 0

    def recorder(name):
        def cb(_consumer, partitions):
            events.append({"ev": name, "partitions": sorted(p.partition for p in partitions), "at": time.time()})
        return cb

    def commit(**kwargs):
        nonlocal seq
        try:
            done = consumer.commit(asynchronous=False, **kwargs)
        except KafkaException:
            return  # fenced by a rebalance or the coordinator away: the record stays uncommitted, which the test allows
        for tp in done or []:
            if tp.error is None:
                seq += 1
                commits.append({"partition": tp.partition, "offset": tp.offset, "at": time.time(), "seq": seq})
                committed[tp.partition] = max(committed.get(tp.partition, 0), tp.offset)

    consumer.subscribe(action["topics"], on_assign=recorder("assign"), on_revoke=recorder("revoke"), on_lost=recorder("lost"))
    deadline = time.monotonic() + action["durationS"]
    want = action.get("maxMessages")
    stop_file = action.get("stopFile")
    ends, next_look = None, 0.0
    try:
        while time.monotonic() < deadline and (want is None or len(messages) < want):
            if stop_file and time.monotonic() >= next_look:
                next_look = time.monotonic() + 0.5
                ends = ends or read_stop_file(stop_file)
                if ends is not None:
                    # A failed commit whose partition saw nothing since is retried; one re-read since is committed again as it comes.
                    for p, o in list(pending.items()):
                        if o > committed.get(p, 0):
                            commit(offsets=[TopicPartition(topic, p, o)])
                    if all(committed.get(p, 0) >= end for p, end in ends.items()):
                        break
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                if not action.get("tolerateErrors"):
                    raise KafkaException(msg.error())
                errors.append(error_json(msg.error()))
                continue
            seq += 1
            messages.append({"partition": msg.partition(), "offset": msg.offset(), "value": text(msg.value()), "at": time.time(), "seq": seq})
            pending[msg.partition()] = msg.offset() + 1
            commit(message=msg)
    finally:
        consumer.close()
    return {"ok": True, "messages": messages, "commits": commits, "events": events, "errors": errors}


def admin_client(bootstrap, action):
    return AdminClient({"bootstrap.servers": bootstrap, **action.get("config", {})})


def wait_all(futures, timeout):
    out = {}
    for name, fut in futures.items():
        try:
            fut.result(timeout)
            out[name] = None
        except Exception as exc:  # noqa: BLE001 - every error is reported, per topic
            out[name] = error_json(exc)
    return {"ok": all(v is None for v in out.values()), "topics": out}


def create_topics(bootstrap, action):
    new = [
        NewTopic(t["name"], num_partitions=t.get("partitions", 1), replication_factor=t.get("replicationFactor", 1), config=t.get("config", {}))
        for t in action["topics"]
    ]
    admin = admin_client(bootstrap, action)  # must outlive the futures, or they fail with _DESTROY
    return wait_all(admin.create_topics(new, operation_timeout=10), action.get("timeoutS", 30))


def delete_topics(bootstrap, action):
    admin = admin_client(bootstrap, action)
    return wait_all(admin.delete_topics(action["topics"], operation_timeout=10), action.get("timeoutS", 30))


def metadata(bootstrap, action):
    md = admin_client(bootstrap, action).list_topics(topic=action.get("topic"), timeout=action.get("timeoutS", 30))
    return {
        "ok": True,
        "clusterId": md.cluster_id,
        "controllerId": md.controller_id,
        "brokers": [{"id": b.id, "host": b.host, "port": b.port} for b in md.brokers.values()],
        "topics": {
            name: {
                "error": None if t.error is None else error_json(t.error),
                "partitions": {str(p.id): {"leader": p.leader, "replicas": p.replicas, "isrs": p.isrs} for p in t.partitions.values()},
            }
            for name, t in md.topics.items()
        },
    }


ACTIONS = {"produce": produce, "consume": consume, "groupMember": group_member, "createTopics": create_topics, "deleteTopics": delete_topics, "metadata": metadata}


def main():
    try:
        request = json.load(sys.stdin)
        bootstrap = request["bootstrap"]
        actions = request["actions"]
        unknown = [a.get("op") for a in actions if a.get("op") not in ACTIONS]
        if unknown:
            raise ValueError(f"unknown op(s) {unknown}; known: {sorted(ACTIONS)}")
    except (ValueError, KeyError, TypeError) as exc:
        print(json.dumps({"badRequest": str(exc)}))
        sys.exit(2)
    results = []
    for action in actions:
        try:
            results.append(ACTIONS[action["op"]](bootstrap, action))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which decides
            results.append({"ok": False, "error": error_json(exc)})
    print(json.dumps({"results": results, "version": confluent_kafka.version()[0], "librdkafka": confluent_kafka.libversion()[0]}))


if __name__ == "__main__":
    main()
