-- Attachments (issue 17; docs/protocol.md section 6.8). The metadata of every upload, and the
-- bytes in the database so every instance serves every file: one `blobs` row per distinct
-- sha256 (NULL while an upload is being staged) with its bytes in 256 KiB `blob_chunks`.
-- message_attachments and task_attachments record where an attachment is used: who may read it
-- (the uploader, and the members of those rooms and projects) and what keeps it from being
-- collected.

CREATE TABLE blobs (
    id         bigserial PRIMARY KEY,
    sha256     text UNIQUE,
    size       bigint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL
);
CREATE INDEX blobs_staged ON blobs (created_at) WHERE sha256 IS NULL;

CREATE TABLE blob_chunks (
    blob_id bigint NOT NULL REFERENCES blobs(id) ON DELETE CASCADE,
    n       integer NOT NULL,
    data    bytea NOT NULL,
    PRIMARY KEY (blob_id, n)
);
-- Most uploads are compressed already (images, archives): store the chunks out of line as they
-- are instead of trying to compress them again.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE attachments (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    size         bigint NOT NULL,
    content_type text NOT NULL,
    sha256       text NOT NULL,
    created_at   bigint NOT NULL,
    uploader_id  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE
);
CREATE INDEX attachments_by_uploader ON attachments (uploader_id, created_at);
CREATE INDEX attachments_by_sha256 ON attachments (sha256);
CREATE INDEX attachments_by_created ON attachments (created_at);

CREATE TABLE message_attachments (
    message_id    bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    attachment_id bigint NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    position      integer NOT NULL,
    PRIMARY KEY (message_id, attachment_id)
);
CREATE INDEX message_attachments_by_attachment ON message_attachments (attachment_id, message_id);

CREATE TABLE task_attachments (
    task_id       bigint NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    attachment_id bigint NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    position      integer NOT NULL,
    PRIMARY KEY (task_id, attachment_id)
);
CREATE INDEX task_attachments_by_attachment ON task_attachments (attachment_id, task_id);
