#include "shared/models/search_result_model.h"

namespace taskmaster {

SearchResultModel::SearchResultModel(QObject *parent) : QAbstractListModel(parent) { }

SearchResultModel::~SearchResultModel() = default;

int SearchResultModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : count();
}

QVariant SearchResultModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.parent().isValid() || index.row() < 0 || index.row() >= count())
        return {};
    const int row = index.row();
    if (row < taskCount()) {
        const Task &t = m_tasks.at(row);
        switch (role) {
        case KindRole:
            return QStringLiteral("task");
        case TaskIdRole:
            return QVariant(t.id);
        case ProjectIdRole:
            return QVariant(t.projectId);
        case Qt::DisplayRole:
        case TitleRole:
            return t.title;
        case StatusRole:
            return toWire(t.status);
        case PriorityRole:
            return toWire(t.priority);
        case MessageIdRole:
        case RoomIdRole:
        case AuthorIdRole:
            return QVariant(qint64(0));
        case RoomNameRole:
        case BodyRole:
            return QString();
        case CreatedAtRole:
            return QDateTime();
        default:
            return {};
        }
    }
    const MessageHit &hit = m_messages.at(row - taskCount());
    const Message &m = hit.message;
    switch (role) {
    case KindRole:
        return QStringLiteral("message");
    case MessageIdRole:
        return QVariant(m.id);
    case RoomIdRole:
        return QVariant(m.roomId);
    case RoomNameRole:
        return hit.roomName;
    case AuthorIdRole:
        return QVariant(m.authorId);
    case Qt::DisplayRole:
    case BodyRole:
        return m.body;
    case CreatedAtRole:
        return m.createdAt;
    case TaskIdRole:
    case ProjectIdRole:
        return QVariant(qint64(0));
    case TitleRole:
    case StatusRole:
    case PriorityRole:
        return QString();
    default:
        return {};
    }
}

QHash<int, QByteArray> SearchResultModel::roleNames() const
{
    static const QHash<int, QByteArray> names {
        {KindRole, QByteArrayLiteral("kind")},           {TaskIdRole, QByteArrayLiteral("taskId")},
        {ProjectIdRole, QByteArrayLiteral("projectId")}, {TitleRole, QByteArrayLiteral("title")},
        {StatusRole, QByteArrayLiteral("status")},       {PriorityRole, QByteArrayLiteral("priority")},
        {MessageIdRole, QByteArrayLiteral("messageId")}, {RoomIdRole, QByteArrayLiteral("roomId")},
        {RoomNameRole, QByteArrayLiteral("roomName")},   {AuthorIdRole, QByteArrayLiteral("authorId")},
        {BodyRole, QByteArrayLiteral("body")},           {CreatedAtRole, QByteArrayLiteral("createdAt")},
    };
    return names;
}

void SearchResultModel::reset(const QString &query, const QList<Task> &tasks, const QList<MessageHit> &messages)
{
    beginResetModel();
    m_query = query;
    m_tasks = tasks;
    m_messages = messages;
    endResetModel();
    Q_EMIT resultsChanged();
}

} // namespace taskmaster
