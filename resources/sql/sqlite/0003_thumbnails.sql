-- Thumbnails of image attachments (docs/protocol.md section 6.8): made once per distinct image
-- (by the image's sha256) and stored as a blob of their own (server/attachments/thumbnailer).
CREATE TABLE thumbnails (
    source_sha256 TEXT PRIMARY KEY,
    sha256        TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL
) WITHOUT ROWID;
