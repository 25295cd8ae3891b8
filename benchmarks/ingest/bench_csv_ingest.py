"""CSV file ingest into ``raw`` (``source_records_raw``): rows per second (issue 4 goal: 200,000).

Writes a POS-style export (13 columns, Chinese item names, empty cells; about 96 bytes a row)
once in UTF-8 and once in GBK, then times ``ingest_file`` in a fresh workspace:

1. ``raw_utf8``: land raw only (a source without targets): read, build JSON payloads and keys,
   one Delta commit per 250,000 rows;
2. ``raw_gbk``: the same from the GBK file (encoding detected, transcoded while reading);
3. ``staged_utf8``: land raw and stage through the demo's ``pos_receipts`` mapping (orders,
   order lines and customer records merged by key).

Each figure is the whole ingest call (run log, quarantine and commits included), after a small
warm-up ingest; raw figures are the median of ``--repeat`` runs (each lands the file again). The
machine's load average is recorded beside them: other work on the two cores slows every figure.
Results go to ``benchmarks/results/csv_ingest.json``.

Run: ``.venv/bin/python benchmarks/ingest/bench_csv_ingest.py [--rows 1000000]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, Stopwatch, save

from custodia.collect.mapping_spec import MappingFile, SourceMapping, load_mapping_file
from custodia.pipeline.ingest import ingest_file
from custodia.settings import load_settings
from custodia.workspace import Workspace

HEADER = (
    "receipt_no,store_id,till,loyalty_card_no,phone,sold_at,sku,item_name,size,qty,price,"
    "amount,payment_method\n"
)
ITEMS = ("真丝连衣裙", "Silk Blouse", "羊绒围巾", "Linen Pants", "棉质T恤")
DEMO_MAPPING = Path(__file__).resolve().parents[2] / "src/custodia/pipeline/demo_mappings.yaml"


def write_pos_csv(path: Path, rows: int, encoding: str) -> int:
    """A POS export of ``rows`` receipt lines (three lines per receipt); returns its size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        fh.write(HEADER)
        for i in range(rows):
            card = f"M{i % 90_000:07d}" if i % 3 else ""
            phone = f"139{i % 7_777_777:08d}" if i % 2 else ""
            qty = 1 + i % 3
            fh.write(
                f"R{i // 3:08d},SH{i % 40:03d},{i % 5},{card},{phone},"
                f"2025-04-{1 + i % 28:02d} 1{i % 10}:0{i % 6}:00,DR-{i % 300:03d},"
                f"{ITEMS[i % 5]},M,{qty},899.00,{899 * qty}.00,wechat\n"
            )
    return path.stat().st_size


def timed_ingest(ws: Workspace, mappings: MappingFile, source: str, path: Path) -> float:
    with Stopwatch() as sw:
        report = ingest_file(ws, mappings, source, path)
    src = report.sources[0]
    assert src.rows_rejected == 0 and src.rows_landed == src.rows_in, src
    return sw.seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = WORK / "csv-ingest"
    shutil.rmtree(root, ignore_errors=True)
    utf8, gbk = root / "data" / "pos_utf8.csv", root / "data" / "pos_gbk.csv"
    size = write_pos_csv(utf8, args.rows, "utf-8")
    write_pos_csv(gbk, args.rows, "gbk")
    warm = root / "data" / "warm.csv"
    write_pos_csv(warm, 10_000, "utf-8")
    raw_only = MappingFile(
        sources=[SourceMapping(name="pos_raw", format="csv", entity="pos_receipts")]
    )
    demo = load_mapping_file(DEMO_MAPPING)
    ws, _token = Workspace.create(load_settings(home=root / "ws"))
    load_before = os.getloadavg()[0]
    with ws:
        timed_ingest(ws, raw_only, "pos_raw", warm)
        raw_utf8 = statistics.median(
            timed_ingest(ws, raw_only, "pos_raw", utf8) for _ in range(args.repeat)
        )
        raw_gbk = statistics.median(
            timed_ingest(ws, raw_only, "pos_raw", gbk) for _ in range(args.repeat)
        )
        staged = timed_ingest(ws, demo, "pos_receipts", utf8)
    rows = args.rows
    save(
        "csv_ingest",
        {
            "rows": rows,
            "file_megabytes": round(size / 1e6, 1),
            "raw_utf8_seconds": round(raw_utf8, 2),
            "raw_utf8_rows_per_second": round(rows / raw_utf8),
            "raw_gbk_seconds": round(raw_gbk, 2),
            "raw_gbk_rows_per_second": round(rows / raw_gbk),
            "staged_utf8_seconds": round(staged, 2),
            "staged_utf8_rows_per_second": round(rows / staged),
            "repeat": args.repeat,
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        },
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
