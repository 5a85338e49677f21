-- TaskMaster schema v1 (PostgreSQL). Times are milliseconds since the Unix epoch (UTC).
-- Every durable event of a channel is a row of channel_events with the channel's next seq;
-- it names the entity it concerns, so a replay shows the entity's current state (a deleted
-- message replays as its tombstone, its old body is not kept anywhere).

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    role          smallint NOT NULL DEFAULT 0,      -- 0 member, 1 admin
    created_at    bigint NOT NULL
);
CREATE INDEX users_display_name_prefix ON users (lower(display_name) text_pattern_ops);

CREATE TABLE sessions (
    token_hash  bytea PRIMARY KEY,                  -- SHA-256 of the token; the token is never stored
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE projects (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    owner_id    bigint NOT NULL REFERENCES users(id),
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    last_seq    bigint NOT NULL DEFAULT 0,
    deleted     boolean NOT NULL DEFAULT false
);

CREATE TABLE project_members (
    project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at   bigint NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_by_user ON project_members (user_id, project_id);

CREATE TABLE tasks (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    status      smallint NOT NULL DEFAULT 0,        -- todo, in_progress, review, done
    priority    smallint NOT NULL DEFAULT 1,        -- low, medium, high, urgent
    assignee_id bigint REFERENCES users(id) ON DELETE SET NULL,
    due_date    date,
    created_by  bigint NOT NULL REFERENCES users(id),
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    deleted     boolean NOT NULL DEFAULT false,
    search      tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || description)) STORED
);
CREATE INDEX tasks_by_project ON tasks (project_id, created_at DESC, id DESC);
CREATE INDEX tasks_by_project_status ON tasks (project_id, status, created_at DESC, id DESC);
CREATE INDEX tasks_by_project_priority ON tasks (project_id, priority, created_at DESC, id DESC);
CREATE INDEX tasks_by_assignee ON tasks (assignee_id, created_at DESC, id DESC);
CREATE INDEX tasks_search ON tasks USING gin (search);

CREATE TABLE rooms (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    kind        smallint NOT NULL DEFAULT 0,        -- 0 group, 1 direct
    created_at  bigint NOT NULL,
    last_seq    bigint NOT NULL DEFAULT 0
);

CREATE TABLE room_members (
    room_id     bigint NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at   bigint NOT NULL,
    read_seq    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_by_user ON room_members (user_id, room_id);

CREATE TABLE messages (
    id          bigserial PRIMARY KEY,
    room_id     bigint NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    seq         bigint NOT NULL,
    author_id   bigint NOT NULL REFERENCES users(id),
    body        text NOT NULL,
    client_id   text,
    created_at  bigint NOT NULL,
    edited_at   bigint,
    deleted     boolean NOT NULL DEFAULT false,
    search      tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
    UNIQUE (room_id, seq)
);
CREATE UNIQUE INDEX messages_idempotency ON messages (author_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_search ON messages USING gin (search);

CREATE TABLE channel_events (
    channel_kind smallint NOT NULL,                 -- 0 room, 1 project
    channel_id   bigint NOT NULL,
    seq          bigint NOT NULL,
    type         smallint NOT NULL,                 -- EventType
    entity_id    bigint NOT NULL,                   -- message id, task id or user id
    created_at   bigint NOT NULL,
    PRIMARY KEY (channel_kind, channel_id, seq)
);
