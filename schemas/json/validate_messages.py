#!/usr/bin/env python3
"""Validates relayed Kafka messages against the checked-in JSON Schema files.

An outside consumer's view of the stream: it knows only these files, not atende's code.
Input (stdin): one JSON object per line, {"topic", "headers": {name: value}, "value"}
where value is the message body. Each body must match stored_event.v1.json, and its
payload must match <aggregate>/<event_type>.v<event_version>.json, chosen by the message's
headers. Exits 1 naming every message that does not.

    python3 schemas/json/validate_messages.py schemas/json < messages.jsonl
"""

import json
import pathlib
import sys

from jsonschema import Draft202012Validator


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
    envelope = Draft202012Validator(json.loads((root / "stored_event.v1.json").read_text()))
    cache = {}
    failures, count = [], 0
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        count += 1
        value, headers = message["value"], message["headers"]
        aggregate = message["topic"].rsplit(".", 1)[-1]
        path = root / aggregate / f"{headers['event_type']}.v{headers['event_version']}.json"
        errors = [e.message for e in envelope.iter_errors(value)]
        if not path.exists():
            errors.append(f"no schema file {path}")
        else:
            if path not in cache:
                cache[path] = Draft202012Validator(json.loads(path.read_text()))
            errors += [e.message for e in cache[path].iter_errors(value["payload"])]
        if errors:
            failures.append(f"position {headers.get('position')}: {'; '.join(errors)}")
    for f in failures:
        print(f, file=sys.stderr)
    print(f"{count - len(failures)} of {count} messages valid")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
