"""Parquet: the flat rows of the CSV (tabular.py) with types — strings, floats, booleans —
one row group per page, streamed. The schema is the first page's; a later value of
another type becomes its text (a table has one type per column)."""

from __future__ import annotations

from typing import Any, Iterator

from assay.exports.formats.base import Context, Format, Pages
from assay.exports.formats.sink import Sink
from assay.exports.formats.tabular import BASE_COLUMNS, TAIL_COLUMNS, columns_of, flatten


def arrow():
    import pyarrow as pa  # noqa: PLC0415 - pyarrow (~40 MB) loads when a Parquet or Hugging Face export runs, not with the server
    import pyarrow.parquet as pq  # noqa: PLC0415 - as above

    return pa, pq


def _type_of(values: list[Any]):
    pa, _ = arrow()
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return pa.bool_()
    if kinds and kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def schema_of(columns: list[str], flat: list[dict[str, Any]]):
    pa, _ = arrow()
    fixed = {"confidence": pa.float64(), "labels": pa.int64(), "auto_accepted": pa.bool_()}
    return pa.schema([(c, fixed.get(c) or _type_of([f.get(c) for f in flat])) for c in columns])


def _bool(value: Any) -> Any:
    return value if isinstance(value, bool) else None


def _float(value: Any) -> Any:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, int) else None


def _str(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def table_of(flat: list[dict[str, Any]], schema):
    pa, _ = arrow()
    arrays = []
    for field in schema:
        kind = field.type
        cell = _bool if pa.types.is_boolean(kind) else _float if pa.types.is_floating(kind) else _int if pa.types.is_integer(kind) else _str
        name = field.name
        arrays.append(pa.array([cell(f.get(name)) for f in flat], type=kind))
    return pa.Table.from_arrays(arrays, schema=schema)


def write(pages: Pages, context: Context) -> Iterator[bytes]:
    _, pq = arrow()
    sink = Sink()
    writer = None
    schema = None
    for page in pages:
        flat = [flatten(row) for row in page]
        if writer is None:
            schema = schema_of(columns_of(flat), flat)
            writer = pq.ParquetWriter(sink, schema, compression="zstd")
        writer.write_table(table_of(flat, schema))
        yield sink.drain()
    if writer is None:
        schema = schema_of([*BASE_COLUMNS, *TAIL_COLUMNS], [])
        writer = pq.ParquetWriter(sink, schema)
    writer.close()
    yield sink.drain()


FORMAT = Format("parquet", "Parquet (flat, typed)", "parquet", "application/vnd.apache.parquet", write=write)
