#!/usr/bin/env python3
"""The independent Sigma oracle of nodeaudit's tests.

Converts each rule with pySigma's SQLite backend and runs the SQL over the fields
nodeaudit's Sigma view gives of each event (`nodeaudit sigma fields`), one table per log
source, each row one view (a record, for service: auditd). Prints {rule id: [event ids]}.

The tables follow Sigma's readings where SQL would differ: text compares without case
(COLLATE NOCASE), numbers are stored as numbers (so `|gte` compares numbers), an absent
field is NULL, the keyword column holds every value of the view, and REGEXP is Python's
`re.search`. A field with several values (an event's keys) keeps its first. `SYSCALL` is
stored as `SYSCALL_NAME`, since SQLite's column names ignore case.

usage: sigma_oracle.py FIELDS.jsonl RULES.yml|DIRECTORY...
"""
import glob
import json
import os
import re
import sqlite3
import sys

from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldMappingTransformation

# SQLite's column names ignore case: auditd's SYSCALL (the name) and syscall (the number)
# would be one column.
RENAMED = {"SYSCALL": "SYSCALL_NAME"}

SOURCES = {("category", "process_creation"): "process_creation", ("category", "file_event"): "file_event",
           ("category", "network_connection"): "network_connection", ("service", "auditd"): "auditd"}


def source_of(rule):
    logsource = rule.logsource
    if logsource.category:
        return SOURCES.get(("category", logsource.category))
    return SOURCES.get(("service", logsource.service))


def stored(value):
    return int(value) if re.fullmatch(r"-?[0-9]{1,18}", value) else value


def tables(rows):
    databases = {}
    for source in {row["logsource"] for row in rows}:
        database = sqlite3.connect(":memory:")
        database.create_function("REGEXP", 2, lambda pattern, value: value is not None and re.search(pattern, str(value)) is not None)
        database.execute('CREATE TABLE logs (_event, _text COLLATE NOCASE)')
        databases[source] = database
    columns = {source: set() for source in databases}
    for row in rows:
        database, known = databases[row["logsource"]], columns[row["logsource"]]
        fields = {RENAMED.get(name, name): values for name, values in row["fields"].items()}
        for name in fields:
            if name not in known:
                database.execute(f'ALTER TABLE logs ADD COLUMN "{name}" COLLATE NOCASE')
                known.add(name)
        names = list(fields)
        text = " ".join(value for values in fields.values() for value in values)
        placeholders = ", ".join("?" for _ in range(len(names) + 2))
        quoted = ", ".join(f'"{name}"' for name in names)
        database.execute(f"INSERT INTO logs (_event, _text{', ' if names else ''}{quoted}) VALUES ({placeholders})",
                         [row["event"], text] + [stored(fields[name][0]) for name in names])
    return databases, columns


def matches(database, known, query):
    """Runs the backend's query; a column no row has is added (all NULL) first."""
    while True:
        try:
            return {row[0] for row in database.execute(query.replace("SELECT *", "SELECT DISTINCT _event", 1))}
        except sqlite3.OperationalError as error:
            missing = re.match(r"no such column: (.+)", str(error))
            if not missing:
                raise
            name = missing.group(1).strip('"')
            database.execute(f'ALTER TABLE logs ADD COLUMN "{name}" COLLATE NOCASE')
            known.add(name)


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    databases, columns = tables(rows)
    pipeline = ProcessingPipeline(items=[ProcessingItem(transformation=FieldMappingTransformation(RENAMED))])
    backend = sqliteBackend(processing_pipeline=pipeline, fulltext_field="_text")
    result = {}
    paths = []
    for path in sys.argv[2:]:
        paths += sorted(glob.glob(os.path.join(path, "**", "*.y*ml"), recursive=True)) if os.path.isdir(path) else [path]
    for path in paths:
        for rule in SigmaCollection.from_yaml(open(path).read()):
            source = source_of(rule)
            found = set()
            if source in databases:
                for query in backend.convert_rule(rule):
                    found |= matches(databases[source], columns[source], query)
            result[str(rule.id)] = sorted(found)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
