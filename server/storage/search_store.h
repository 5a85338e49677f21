// SearchStore: full-text search over the messages and tasks a user can see (rooms and projects
// they belong to), newest first. PostgreSQL: the GIN-indexed tsvector columns with
// plainto_tsquery; SQLite: the FTS5 tables, with every term quoted so no FTS syntax reaches the
// engine. All terms must match. Thread: a database worker.
#pragma once

#include "shared/core/error.h"
#include "shared/domain/types.h"

#include <QList>
#include <QSqlDatabase>

namespace taskmaster::server::store {

struct SearchHits {
    QList<Message> messages;
    QList<Task> tasks;
};

// Two queries whatever the number of hits. Deleted messages and tasks never match.
[[nodiscard]] Result<SearchHits> search(QSqlDatabase &db, Id userId, const QString &text, int limit);

// The plan of search()'s message query for these arguments, one line per row: PostgreSQL's
// EXPLAIN (ANALYZE, BUFFERS) (it runs the query), SQLite's EXPLAIN QUERY PLAN. For benchmarks.
[[nodiscard]] Result<QStringList> explainMessageSearch(QSqlDatabase &db, Id userId, const QString &text, int limit);

// "deploy the \"rocket\"" -> "\"deploy\" \"the\" \"\"\"rocket\"\"\"": each whitespace-separated term
// as an FTS5 string (quotes doubled). Empty when the text has no term.
[[nodiscard]] QString fts5Query(const QString &text);

} // namespace taskmaster::server::store
