#include "shared/models/reversed_list_proxy.h"

namespace taskmaster {

ReversedListProxy::ReversedListProxy(QObject *parent) : QAbstractProxyModel(parent) { }

ReversedListProxy::~ReversedListProxy() = default;

int ReversedListProxy::sourceCount() const
{
    return sourceModel() ? sourceModel()->rowCount() : 0;
}

void ReversedListProxy::setSourceModel(QAbstractItemModel *source)
{
    beginResetModel();
    for (const auto &c : std::as_const(m_connections))
        disconnect(c);
    m_connections.clear();
    QAbstractProxyModel::setSourceModel(source);
    if (source) {
        using M = QAbstractItemModel;
        // Source rows [first, last] of n rows are proxy rows [n-1-last, n-1-first]. An insert
        // before source row `first` goes before proxy row n - first (n counted before it).
        m_connections << connect(source, &M::rowsAboutToBeInserted, this,
                                 [this](const QModelIndex &, int first, int last) {
                                     const int at = sourceCount() - first;
                                     beginInsertRows({}, at, at + (last - first));
                                 });
        m_connections << connect(source, &M::rowsInserted, this, [this] {
            endInsertRows();
            Q_EMIT countChanged();
        });
        m_connections << connect(source, &M::rowsAboutToBeRemoved, this,
                                 [this](const QModelIndex &, int first, int last) {
                                     const int n = sourceCount();
                                     beginRemoveRows({}, n - 1 - last, n - 1 - first);
                                 });
        m_connections << connect(source, &M::rowsRemoved, this, [this] {
            endRemoveRows();
            Q_EMIT countChanged();
        });
        m_connections << connect(source, &M::rowsAboutToBeMoved, this,
                                 [this](const QModelIndex &, int first, int last, const QModelIndex &, int dest) {
                                     const int n = sourceCount();
                                     beginMoveRows({}, n - 1 - last, n - 1 - first, {}, n - dest);
                                 });
        m_connections << connect(source, &M::rowsMoved, this, [this] { endMoveRows(); });
        m_connections << connect(source, &M::dataChanged, this,
                                 [this](const QModelIndex &tl, const QModelIndex &br, const QList<int> &roles) {
                                     const int n = sourceCount();
                                     Q_EMIT dataChanged(index(n - 1 - br.row(), tl.column()),
                                                        index(n - 1 - tl.row(), br.column()), roles);
                                 });
        m_connections << connect(source, &M::modelAboutToBeReset, this, [this] { beginResetModel(); });
        m_connections << connect(source, &M::modelReset, this, [this] {
            endResetModel();
            Q_EMIT countChanged();
        });
        // A layout change (sort) has no row mapping to forward piecewise: views re-read all.
        m_connections << connect(source, &M::layoutAboutToBeChanged, this, [this] { beginResetModel(); });
        m_connections << connect(source, &M::layoutChanged, this, [this] {
            endResetModel();
            Q_EMIT countChanged();
        });
    }
    endResetModel();
    Q_EMIT countChanged();
}

QModelIndex ReversedListProxy::index(int row, int column, const QModelIndex &parent) const
{
    if (parent.isValid() || row < 0 || column < 0 || row >= rowCount() || column >= columnCount())
        return {};
    return createIndex(row, column);
}

QModelIndex ReversedListProxy::parent(const QModelIndex &) const
{
    return {};
}

int ReversedListProxy::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : sourceCount();
}

int ReversedListProxy::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() || !sourceModel() ? 0 : sourceModel()->columnCount();
}

QModelIndex ReversedListProxy::mapToSource(const QModelIndex &proxyIndex) const
{
    if (!proxyIndex.isValid() || !sourceModel())
        return {};
    return sourceModel()->index(sourceCount() - 1 - proxyIndex.row(), proxyIndex.column());
}

QModelIndex ReversedListProxy::mapFromSource(const QModelIndex &sourceIndex) const
{
    if (!sourceIndex.isValid())
        return {};
    return createIndex(sourceCount() - 1 - sourceIndex.row(), sourceIndex.column());
}

bool ReversedListProxy::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && sourceModel() && sourceModel()->canFetchMore({});
}

void ReversedListProxy::fetchMore(const QModelIndex &parent)
{
    if (!parent.isValid() && sourceModel())
        sourceModel()->fetchMore({});
}

QHash<int, QByteArray> ReversedListProxy::roleNames() const
{
    return sourceModel() ? sourceModel()->roleNames() : QAbstractProxyModel::roleNames();
}

int ReversedListProxy::proxyRow(int sourceRow) const
{
    return sourceRow < 0 ? -1 : sourceCount() - 1 - sourceRow;
}

int ReversedListProxy::sourceRow(int proxyRow) const
{
    return proxyRow < 0 ? -1 : sourceCount() - 1 - proxyRow;
}

} // namespace taskmaster
