"""A dataset of the catalog (SQLite, stdlib sqlite3) and its shards."""
import os
import sqlite3

from .shards import Shard


def partition(n, rank=0, world_size=1, worker=0, workers=1):
    """Indices 0..n-1 that belong to (rank, worker): every (world_size × workers)-th one.
    The parts are disjoint and together cover 0..n-1."""
    parts = world_size * workers
    return range(rank * workers + worker, n, parts)


class Dataset:
    """Records of one dataset version, in catalog order (shard path, slot), with provenance."""

    def __init__(self, catalog, rows, shards):
        self.catalog = catalog
        self.rows = rows          # list of dicts: clip provenance + shard index + slot
        self.shards = shards      # list of Shard

    @classmethod
    def open(cls, catalog, name, version=None, split=None):
        con = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
        con.row_factory = sqlite3.Row
        try:
            if version is None:
                d = con.execute("SELECT * FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1", (name,)).fetchone()
            else:
                d = con.execute("SELECT * FROM datasets WHERE name = ? AND version = ?", (name, version)).fetchone()
            if d is None:
                raise KeyError(f"{catalog}: no dataset {name!r}" + (f" version {version}" if version else ""))
            root = d["root"] if os.path.isabs(d["root"]) else os.path.join(os.path.dirname(os.path.abspath(catalog)), d["root"])
            shard_rows = con.execute("SELECT * FROM shards WHERE dataset_id = ? ORDER BY path", (d["id"],)).fetchall()
            shards, index = [], {}
            for s in shard_rows:
                index[s["id"]] = len(shards)
                # normpath: a merged part's shard path may climb out of the root ("../part0/…").
                path = os.path.normpath(os.path.join(root, s["path"]))
                shards.append(Shard(path, expect_records=s["record_count"], expect_size=s["size"]))
            query = """SELECT c.*, r.shard_id, r.slot FROM clips c JOIN records r ON r.clip_id = c.id
                       JOIN shards s ON s.id = r.shard_id WHERE c.dataset_id = ?"""
            args = [d["id"]]
            if split is not None:
                query += " AND c.split = ?"
                args.append(split)
            query += " ORDER BY s.path, r.slot"
            rows = [dict(r, shard=index[r["shard_id"]]) for r in con.execute(query, args)]
        finally:
            con.close()
        return cls(catalog, rows, shards)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        row = self.rows[i]
        rec = self.shards[row["shard"]].record(row["slot"])
        for key in ("scan_id", "start_us", "end_us", "speech_ratio", "split", "frame_indices", "still_index"):
            rec[key] = row[key]
        return rec
