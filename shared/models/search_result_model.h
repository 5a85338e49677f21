// SearchResultModel: the hits of one full-text search (GET /search): the matching tasks first,
// then the matching messages, each in the server's order. A row is either a task or a message
// (the "kind" role); the roles of the other kind are empty (0 or "").
// Owns: the hits of the last search and its query. Thread: the GUI thread; not thread-safe.
#pragma once

#include "shared/domain/types.h"
#include "shared/models/qml_support.h"

#include <QAbstractListModel>
#include <QList>

namespace taskmaster {

class SearchResultModel final : public QAbstractListModel {
    Q_OBJECT
    TM_QML_ELEMENT
    // The query these are the results of ("" after clear()).
    Q_PROPERTY(QString query READ query NOTIFY resultsChanged)
    Q_PROPERTY(int count READ count NOTIFY resultsChanged)
    Q_PROPERTY(int taskCount READ taskCount NOTIFY resultsChanged)
    Q_PROPERTY(int messageCount READ messageCount NOTIFY resultsChanged)

public:
    enum Roles {
        KindRole = Qt::UserRole + 1, // "kind": QString, "task" or "message"
        TaskIdRole, // "taskId": qint64 (tasks)
        ProjectIdRole, // "projectId": qint64 (tasks)
        TitleRole, // "title": QString (tasks)
        StatusRole, // "status": QString wire name, e.g. "in_progress" (tasks)
        PriorityRole, // "priority": QString wire name (tasks)
        MessageIdRole, // "messageId": qint64 (messages)
        RoomIdRole, // "roomId": qint64 (messages)
        RoomNameRole, // "roomName": QString, "" when the room is not in the user's list (messages)
        AuthorIdRole, // "authorId": qint64 (messages)
        BodyRole, // "body": QString (messages)
        CreatedAtRole, // "createdAt": QDateTime (messages)
    };
    Q_ENUM(Roles)

    // A matching message and the name of its room, as known when the results arrived.
    struct MessageHit {
        Message message;
        QString roomName;
    };

    explicit SearchResultModel(QObject *parent = nullptr);
    ~SearchResultModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] QString query() const { return m_query; }
    [[nodiscard]] int count() const { return taskCount() + messageCount(); }
    [[nodiscard]] int taskCount() const { return static_cast<int>(m_tasks.size()); }
    [[nodiscard]] int messageCount() const { return static_cast<int>(m_messages.size()); }

    // Replace everything with the results of `query` (a model reset).
    void reset(const QString &query, const QList<Task> &tasks, const QList<MessageHit> &messages);
    void clear() { reset({}, {}, {}); }

Q_SIGNALS:
    void resultsChanged();

private:
    QString m_query;
    QList<Task> m_tasks; // rows [0, taskCount)
    QList<MessageHit> m_messages; // rows [taskCount, count)
};

} // namespace taskmaster
