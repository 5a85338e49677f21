// ReversedListProxy: shows a flat list model upside down (source row r is proxy row
// count - 1 - r), forwarding every change as the matching reversed change, and fetchMore /
// canFetchMore. The chat view uses it to put MessageListModel (oldest first) into a
// bottom-to-top ListView: the newest message is proxy row 0 at the bottom, so a prepended history
// page lands at the far end (above the oldest row, without moving the visible rows), and the
// delegate model's request for more when it reaches the last row asks the source for older
// history. Owns nothing but the connection to its source. Lives on the source model's thread
// (GUI); O(1) per mapped index and per forwarded signal.
#pragma once

#include "shared/models/qml_support.h"

#include <QAbstractProxyModel>
#include <QPointer>

namespace taskmaster {

class ReversedListProxy final : public QAbstractProxyModel {
    Q_OBJECT
    TM_QML_ELEMENT
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    explicit ReversedListProxy(QObject *parent = nullptr);
    ~ReversedListProxy() override;

    // A flat list model (rows under the invalid parent only); nullptr detaches.
    void setSourceModel(QAbstractItemModel *source) override;

    [[nodiscard]] QModelIndex index(int row, int column, const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] QModelIndex parent(const QModelIndex &child) const override;
    [[nodiscard]] int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    [[nodiscard]] QModelIndex mapToSource(const QModelIndex &proxyIndex) const override;
    [[nodiscard]] QModelIndex mapFromSource(const QModelIndex &sourceIndex) const override;
    [[nodiscard]] bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] int count() const { return rowCount(); }
    // Proxy row of a source row (and back); -1 for -1.
    [[nodiscard]] Q_INVOKABLE int proxyRow(int sourceRow) const;
    [[nodiscard]] Q_INVOKABLE int sourceRow(int proxyRow) const;

Q_SIGNALS:
    void countChanged();

private:
    [[nodiscard]] int sourceCount() const;

    QList<QMetaObject::Connection> m_connections;
};

} // namespace taskmaster
