"""Config admin calls of confluent-kafka's AdminClient for test/clients/confluent-kafka.system.test.ts.

Reads {"bootstrap", "actions": [...]} on stdin and prints {"results": [...]}, one per action:
  {"op": "describe", "type": "topic"|"broker", "name"}
      -> {"ok", "configs": {name: {"value", "source", "isDefault", "isReadOnly", "synonyms": [source, ...]}}}
  {"op": "incrementalAlter", "type", "name", "set"?: {k: v}, "delete"?: [k], "validateOnly"?}
  {"op": "alter", "type", "name", "configs": {k: v}}      (the deprecated whole-set AlterConfigs)
      -> {"ok"} or {"ok": false, "error": {"code", "name", "message"}}
Exit code 3 when confluent_kafka cannot be imported.
"""

import json
import sys

try:
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource
except ImportError as exc:
    print(json.dumps({"missingModule": str(exc)}))
    sys.exit(3)

TIMEOUT_S = 20


def error_json(err):
    if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
        err = err.args[0]
    if isinstance(err, KafkaError):
        return {"code": err.code(), "name": err.name(), "message": err.str()}
    return {"code": None, "name": type(err).__name__, "message": str(err)}


def only_result(futures):
    (future,) = futures.values()
    return future.result(TIMEOUT_S)


def describe(admin, a):
    entries = only_result(admin.describe_configs([ConfigResource(a["type"], a["name"])], request_timeout=TIMEOUT_S))
    return {
        "ok": True,
        "configs": {
            name: {
                "value": e.value,
                "source": e.source,
                "isDefault": e.is_default,
                "isReadOnly": e.is_read_only,
                "synonyms": [s.source for s in e.synonyms.values()],
            }
            for name, e in entries.items()
        },
    }


def incremental_alter(admin, a):
    ops = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in a.get("set", {}).items()]
    ops += [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE) for k in a.get("delete", [])]
    resource = ConfigResource(a["type"], a["name"], incremental_configs=ops)
    only_result(admin.incremental_alter_configs([resource], validate_only=a.get("validateOnly", False), request_timeout=TIMEOUT_S))
    return {"ok": True}


def alter(admin, a):
    resource = ConfigResource(a["type"], a["name"], set_config=a["configs"])
    only_result(admin.alter_configs([resource], request_timeout=TIMEOUT_S))
    return {"ok": True}


ACTIONS = {"describe": describe, "incrementalAlter": incremental_alter, "alter": alter}


def main():
    request = json.load(sys.stdin)
    admin = AdminClient({"bootstrap.servers": request["bootstrap"]})
    results = []
    for action in request["actions"]:
        try:
            results.append(ACTIONS[action["op"]](admin, action))
        except Exception as exc:  # noqa: BLE001 - every outcome goes back to the test
            results.append({"ok": False, "error": error_json(exc)})
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
