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
        return migrator
    }
}
