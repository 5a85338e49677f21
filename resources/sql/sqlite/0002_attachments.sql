-- Attachments (issue 17; docs/protocol.md section 6.8). The metadata of every upload; the bytes
-- are files under <data-dir>/attachments/, one per distinct sha256 (server/attachments).
-- message_attachments and task_attachments record where an attachment is used: who may read it
-- (the uploader, and the members of those rooms and projects) and what keeps it from being
-- collected.

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    uploader_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE
);
CREATE INDEX attachments_by_uploader ON attachments (uploader_id, created_at);
CREATE INDEX attachments_by_sha256 ON attachments (sha256);
CREATE INDEX attachments_by_created ON attachments (created_at);

CREATE TABLE message_attachments (
    message_id    INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    attachment_id INTEGER NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    PRIMARY KEY (message_id, attachment_id)
) WITHOUT ROWID;
CREATE INDEX message_attachments_by_attachment ON message_attachments (attachment_id, message_id);

CREATE TABLE task_attachments (
    task_id       INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    attachment_id INTEGER NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    PRIMARY KEY (task_id, attachment_id)
) WITHOUT ROWID;
CREATE INDEX task_attachments_by_attachment ON task_attachments (attachment_id, task_id);
