"""The warehouses teams use, through dlt: BigQuery, Snowflake, Redshift, Databricks, Parquet files
(dlt's ``filesystem`` destination; ``parquet`` here is a shorthand for it), DuckDB, PostgreSQL…

Each batch becomes one ``pipeline.run``: tables with a key are merged on it, child tables use
dlt's ``delete-insert`` on their parent column, history tables are appended. Destinations that
cannot merge (plain files) append, and every row carries ``_synced_at``: the latest row per key
is the current one. The sync's state is written, after the load returned, to a file beside
dlt's own pipeline state (``pipelines_dir``). Credentials are dlt's: ``.dlt/secrets.toml`` or
``DESTINATION__BIGQUERY__CREDENTIALS__…`` environment variables.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from porch.sync.warehouse.destinations import Batch, Counts
from porch.sync.warehouse.schema import BOOL, DOUBLE, INT, JSON, STRING, TIMESTAMP, Table

_DLT_TYPES = {
    STRING: "text",
    TIMESTAMP: "timestamp",
    BOOL: "bool",
    INT: "bigint",
    DOUBLE: "double",
    JSON: "json",
}
_NO_MERGE = {"filesystem"}


class DltDestination:
    def __init__(self, name: str, *, dataset: str, pipelines_dir: str | None = None) -> None:
        import dlt

        self.kind = "filesystem" if name == "parquet" else name
        self.file_format = "parquet" if name in ("parquet", "filesystem") else None
        self.dir = Path(pipelines_dir or Path.home() / ".dlt" / "pipelines")
        self.pipeline = dlt.pipeline(
            pipeline_name=f"porch_{dataset}",
            destination=self.kind,
            dataset_name=dataset,
            pipelines_dir=str(self.dir),
        )
        self.state_path = self.dir / f"porch_{dataset}.sync-state.json"
        # A load dlt had not finished when the last run stopped is finished first.
        if self.pipeline.has_pending_data:
            self.pipeline.load()

    def prepare(self, tables: list[Table]) -> None:
        """dlt creates and evolves the tables as it loads."""

    def read_state(self) -> dict[str, Any] | None:
        if not self.state_path.exists():
            return None
        data: dict[str, Any] = json.loads(self.state_path.read_text())
        return data

    def truncate(self, tables: list[str]) -> None:
        self.pipeline.drop_pending_packages()
        if tables:
            self.pipeline.refresh = "drop_data"

    def close(self) -> None:
        pass

    def commit(
        self, tables: dict[str, Table], batch: Batch, state: dict[str, Any]
    ) -> dict[str, Counts]:
        import dlt

        resources = []
        counts: dict[str, Counts] = {}
        rows_of = dict(batch.rows)
        for name, ids in batch.gone.items():
            # A vanished object: a row of its key and ``_deleted`` (its other columns empty).
            if name in tables and ids:
                rows_of[name] = [
                    *rows_of.get(name, []),
                    *({"id": i, "_deleted": True} for i in ids),
                ]
        for name, rows in rows_of.items():
            table = tables.get(name)
            if table is None or not rows:
                continue
            cols = table.all_columns
            columns = [batch.column(rows, c, k) for c, k in cols.items()]
            data = [dict(zip(cols, values, strict=True)) for values in zip(*columns, strict=True)]
            hints: dict[str, Any] = {
                c: {"data_type": _DLT_TYPES[k], "nullable": c not in table.key}
                for c, k in cols.items()
            }
            if self.kind in _NO_MERGE or table.history:
                disposition: Any = "append"
            elif table.parent:
                disposition = {"disposition": "merge", "strategy": "delete-insert"}
            else:
                disposition = "merge"
            merge_key: Any = table.parent if table.parent and disposition != "append" else None
            res = dlt.resource(
                data,
                name=name,
                primary_key=list(table.key),
                merge_key=merge_key,
                write_disposition=disposition,
                columns=hints,
            )
            resources.append(res)
            gone = len(batch.gone.get(name, ()))
            counts[name] = Counts(inserted=len(data) - gone, deleted=gone)
        if resources:
            kw: dict[str, Any] = {}
            if self.file_format:
                kw["loader_file_format"] = self.file_format
            self.pipeline.run(resources, **kw)
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(state, sort_keys=True))
        os.replace(tmp, self.state_path)
        return counts
