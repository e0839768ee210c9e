import GRDB

/// The catalog's schema history. Migrations are frozen once released: change the schema by
/// appending a migration, never by editing one. `schemas/catalog.sql` is the resulting schema
/// (a test keeps the two equal).
enum CatalogMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-runs-recordings") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    stage TEXT NOT NULL,
                    version TEXT NOT NULL,
                    arguments TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
                    summary TEXT
                );

                CREATE TABLE recordings (
                    scan_id TEXT PRIMARY KEY NOT NULL CHECK (length(scan_id) > 0),
                    video_path TEXT NOT NULL,
                    audio_path TEXT,
                    audio_offset_us INTEGER NOT NULL DEFAULT 0,
                    crop_x INTEGER, crop_y INTEGER, crop_w INTEGER, crop_h INTEGER,
                    crop_source TEXT CHECK (crop_source IN ('manifest', 'auto')),
                    status TEXT NOT NULL CHECK (status IN ('ingested', 'failed')),
                    error_kind TEXT,
                    error TEXT,
                    video_fingerprint TEXT,
                    audio_fingerprint TEXT,
                    container TEXT,
                    container_duration_us INTEGER,
                    video_codec TEXT,
                    width INTEGER CHECK (width > 0),
                    height INTEGER CHECK (height > 0),
                    pixel_format TEXT,
                    avg_frame_rate TEXT,
                    real_frame_rate TEXT,
                    frame_count INTEGER,
                    rotation INTEGER CHECK (rotation IN (0, 90, 180, 270)),
                    video_start_us INTEGER,
                    video_duration_us INTEGER,
                    audio_codec TEXT,
                    audio_sample_rate INTEGER CHECK (audio_sample_rate > 0),
                    audio_channels INTEGER CHECK (audio_channels > 0),
                    audio_start_us INTEGER,
                    audio_duration_us INTEGER,
                    probe TEXT,
                    updated_at TEXT NOT NULL,
                    run_id INTEGER REFERENCES runs(id),
                    CHECK ((crop_x IS NULL) = (crop_w IS NULL)),
                    CHECK (status = 'failed' OR (video_codec IS NOT NULL AND audio_codec IS NOT NULL)),
                    CHECK (status = 'ingested' OR error IS NOT NULL)
                );
                CREATE INDEX recordings_status ON recordings(status);
                """)
        }
        migrator.registerMigration("v2-datasets-clips-shards") { db in
            try db.execute(sql: """
                CREATE TABLE datasets (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL CHECK (length(name) > 0),
                    version INTEGER NOT NULL CHECK (version >= 1),
                    recipe TEXT NOT NULL,
                    recipe_hash TEXT NOT NULL,
                    record_layout TEXT NOT NULL,
                    root TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    UNIQUE (name, version),
                    UNIQUE (name, recipe_hash)
                );

                CREATE TABLE clips (
                    id INTEGER PRIMARY KEY,
                    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
                    scan_id TEXT NOT NULL,
                    start_us INTEGER NOT NULL,
                    end_us INTEGER NOT NULL,
                    speech_ratio REAL NOT NULL CHECK (speech_ratio >= 0 AND speech_ratio <= 1),
                    split TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
                    status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'extracted', 'rejected')),
                    reject_reason TEXT,
                    frame_indices TEXT,
                    still_index INTEGER,
                    CHECK (end_us > start_us),
                    UNIQUE (dataset_id, scan_id, start_us)
                );
                CREATE INDEX clips_dataset_split ON clips(dataset_id, split);
                CREATE INDEX clips_scan ON clips(scan_id, start_us);
                CREATE INDEX clips_dataset_speech ON clips(dataset_id, speech_ratio);

                CREATE TABLE shards (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
                    path TEXT NOT NULL,
                    size INTEGER NOT NULL CHECK (size >= 4096),
                    record_count INTEGER NOT NULL CHECK (record_count > 0),
                    header_crc32c INTEGER NOT NULL,
                    records_crc32c INTEGER NOT NULL,
                    sealed_at TEXT NOT NULL,
                    run_id INTEGER REFERENCES runs(id),
                    UNIQUE (dataset_id, path)
                );

                CREATE TABLE scan_plans (
                    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
                    scan_id TEXT NOT NULL,
                    clips INTEGER NOT NULL,
                    rejected TEXT NOT NULL,
                    planned_at TEXT NOT NULL,
                    run_id INTEGER REFERENCES runs(id),
                    PRIMARY KEY (dataset_id, scan_id)
                );

                CREATE TABLE extractions (
                    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
                    scan_id TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('extracted', 'failed')),
                    records INTEGER NOT NULL DEFAULT 0,
                    rejected TEXT,
                    error TEXT,
                    extracted_at TEXT NOT NULL,
                    run_id INTEGER REFERENCES runs(id),
                    PRIMARY KEY (dataset_id, scan_id)
                );

                CREATE TABLE records (
                    clip_id INTEGER PRIMARY KEY REFERENCES clips(id) ON DELETE CASCADE,
                    shard_id INTEGER NOT NULL REFERENCES shards(id) ON DELETE CASCADE,
                    slot INTEGER NOT NULL CHECK (slot >= 0),
                    UNIQUE (shard_id, slot)
                );
                """)
        }
        migrator.registerMigration("v3-speech-intervals") { db in
            // Where the detector found speech in each scan, per dataset version (its recipe
            // holds the detector's settings): what explains each clip's speech ratio.
            try db.execute(sql: """
                CREATE TABLE speech_intervals (
                    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
                    scan_id TEXT NOT NULL REFERENCES recordings(scan_id),
                    start_us INTEGER NOT NULL,
                    end_us INTEGER NOT NULL CHECK (end_us > start_us),
                    PRIMARY KEY (dataset_id, scan_id, start_us)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v4-labels-folds") { db in
            // Labels, versioned and immutable like recipes: a label set is a manifest's content
            // under a name; changed content makes the next version. Frame samples keep their
            // label on the clip row; labelled datasets keep their folds by scan.
            try db.execute(sql: """
                CREATE TABLE label_sets (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL CHECK (length(name) > 0),
                    kind TEXT NOT NULL CHECK (kind IN ('planes', 'gaze')),
                    version INTEGER NOT NULL CHECK (version >= 1),
                    content_hash TEXT NOT NULL,
                    source TEXT NOT NULL,
                    rows INTEGER NOT NULL,
                    created_at TEXT NOT NULL,
                    UNIQUE (name, version),
                    UNIQUE (name, content_hash)
                );

                CREATE TABLE plane_labels (
                    label_set_id INTEGER NOT NULL REFERENCES label_sets(id),
                    scan_id TEXT NOT NULL REFERENCES recordings(scan_id),
                    start_us INTEGER NOT NULL,
                    end_us INTEGER NOT NULL CHECK (end_us > start_us),
                    label TEXT NOT NULL,
                    PRIMARY KEY (label_set_id, scan_id, start_us)
                ) WITHOUT ROWID;

                CREATE TABLE gaze_samples (
                    label_set_id INTEGER NOT NULL REFERENCES label_sets(id),
                    scan_id TEXT NOT NULL REFERENCES recordings(scan_id),
                    time_us INTEGER NOT NULL,
                    x REAL NOT NULL,
                    y REAL NOT NULL
                );
                CREATE INDEX gaze_samples_by_scan ON gaze_samples(label_set_id, scan_id, time_us);

                CREATE TABLE folds (
                    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
                    scan_id TEXT NOT NULL REFERENCES recordings(scan_id),
                    fold INTEGER NOT NULL CHECK (fold >= 0),
                    PRIMARY KEY (dataset_id, scan_id)
                ) WITHOUT ROWID;

                ALTER TABLE clips ADD COLUMN label TEXT;
                """)
        }
        migrator.registerMigration("v5-crop-partial-damage") { db in
            // How a detected crop was found and how sure it is (sector detection), and recordings
            // readable in part ('partial': cut short, the loss in `error`). SQLite cannot change a
            // CHECK: the table is rebuilt (foreign keys are checked after the migration).
            try db.execute(sql: """
                CREATE TABLE recordings_v5 (
                    scan_id TEXT PRIMARY KEY NOT NULL CHECK (length(scan_id) > 0),
                    video_path TEXT NOT NULL,
                    audio_path TEXT,
                    audio_offset_us INTEGER NOT NULL DEFAULT 0,
                    crop_x INTEGER, crop_y INTEGER, crop_w INTEGER, crop_h INTEGER,
                    crop_source TEXT CHECK (crop_source IN ('manifest', 'auto')),
                    crop_method TEXT,
                    crop_confidence REAL,
                    crop_fill REAL,
                    status TEXT NOT NULL CHECK (status IN ('ingested', 'partial', 'failed')),
                    error_kind TEXT,
                    error TEXT,
                    video_fingerprint TEXT,
                    audio_fingerprint TEXT,
                    container TEXT,
                    container_duration_us INTEGER,
                    video_codec TEXT,
                    width INTEGER CHECK (width > 0),
                    height INTEGER CHECK (height > 0),
                    pixel_format TEXT,
                    avg_frame_rate TEXT,
                    real_frame_rate TEXT,
                    frame_count INTEGER,
                    rotation INTEGER CHECK (rotation IN (0, 90, 180, 270)),
                    video_start_us INTEGER,
                    video_duration_us INTEGER,
                    audio_codec TEXT,
                    audio_sample_rate INTEGER CHECK (audio_sample_rate > 0),
                    audio_channels INTEGER CHECK (audio_channels > 0),
                    audio_start_us INTEGER,
                    audio_duration_us INTEGER,
                    probe TEXT,
                    updated_at TEXT NOT NULL,
                    run_id INTEGER REFERENCES runs(id),
                    CHECK ((crop_x IS NULL) = (crop_w IS NULL)),
                    CHECK (status = 'failed' OR (video_codec IS NOT NULL AND audio_codec IS NOT NULL)),
                    CHECK (status = 'ingested' OR error IS NOT NULL)
                );
                INSERT INTO recordings_v5 (scan_id, video_path, audio_path, audio_offset_us, crop_x, crop_y, crop_w, crop_h, crop_source,
                    status, error_kind, error, video_fingerprint, audio_fingerprint, container, container_duration_us, video_codec, width,
                    height, pixel_format, avg_frame_rate, real_frame_rate, frame_count, rotation, video_start_us, video_duration_us,
                    audio_codec, audio_sample_rate, audio_channels, audio_start_us, audio_duration_us, probe, updated_at, run_id)
                SELECT scan_id, video_path, audio_path, audio_offset_us, crop_x, crop_y, crop_w, crop_h, crop_source,
                    status, error_kind, error, video_fingerprint, audio_fingerprint, container, container_duration_us, video_codec, width,
                    height, pixel_format, avg_frame_rate, real_frame_rate, frame_count, rotation, video_start_us, video_duration_us,
                    audio_codec, audio_sample_rate, audio_channels, audio_start_us, audio_duration_us, probe, updated_at, run_id
                FROM recordings;
                DROP TABLE recordings;
                ALTER TABLE recordings_v5 RENAME TO recordings;
                CREATE INDEX recordings_status ON recordings(status);

                -- Provenance by presentation time: exact where frames were lost (damage accounting).
                ALTER TABLE clips ADD COLUMN frame_times_us TEXT;
                ALTER TABLE clips ADD COLUMN still_time_us INTEGER;
                -- Per scan and dataset: what decoding met (corrupt packets, lost frames, audio gaps), JSON.
                ALTER TABLE extractions ADD COLUMN damage TEXT;
                """)
        }
        migrator.registerMigration("v6-extraction-decode") { db in
            // How the scan's video was decoded (issue 18): planned or every frame, the packets
            // sent to the decoder and in the stream, and why a planned extraction decoded through.
            try db.execute(sql: """
                ALTER TABLE extractions ADD COLUMN decode_mode TEXT CHECK (decode_mode IN ('planned', 'all'));
                ALTER TABLE extractions ADD COLUMN packets_decoded INTEGER CHECK (packets_decoded >= 0);
                ALTER TABLE extractions ADD COLUMN packets_total INTEGER CHECK (packets_total >= packets_decoded);
                ALTER TABLE extractions ADD COLUMN decode_fallback TEXT;
                """)
        }
        return migrator
    }
}
