#include "tests/support/raw_wire.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonDocument>

namespace taskmaster::test {

QJsonObject RawResponse::error() const
{
    return QJsonDocument::fromJson(body).object().value(QLatin1String("error")).toObject();
}

QString RawResponse::errorCode() const
{
    return error().value(QLatin1String("code")).toString();
}

RawResponse parseResponse(const QByteArray &bytes)
{
    RawResponse r;
    const qsizetype end = bytes.indexOf("\r\n\r\n");
    if (!bytes.startsWith("HTTP/1.1 ") || end < 0)
        return r;
    r.status = bytes.mid(9, 3).toInt();
    r.head = bytes.left(end);
    r.body = bytes.mid(end + 4);
    return r;
}

bool isWholeResponse(const QByteArray &bytes)
{
    const RawResponse r = parseResponse(bytes);
    if (r.status == 0)
        return false;
    const qsizetype at = r.head.toLower().indexOf("content-length:");
    if (at < 0)
        return true;
    const qsizetype eol = r.head.indexOf('\r', at);
    return r.body.size() >= r.head.mid(at + 15, eol < 0 ? -1 : eol - at - 15).trimmed().toLongLong();
}

std::unique_ptr<QTcpSocket> connectFrom(const QHostAddress &source, quint16 port)
{
    auto s = std::make_unique<QTcpSocket>();
    if (!s->bind(source, 0))
        return nullptr;
    s->connectToHost(QHostAddress::LocalHost, port);
    if (!s->waitForConnected(5000))
        return nullptr;
    return s;
}

QByteArray readUntil(QTcpSocket &s, const std::function<bool(const QByteArray &)> &done, int timeoutMs)
{
    QByteArray got;
    const QDeadlineTimer deadline(timeoutMs);
    while (!done(got) && s.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        s.waitForReadyRead(int(qMin<qint64>(deadline.remainingTime(), 100)));
        got += s.readAll();
    }
    return got + s.readAll();
}

int getStatus(const QHostAddress &source, quint16 port, const QByteArray &path)
{
    auto s = connectFrom(source, port);
    if (!s)
        return 0;
    s->write("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    return parseResponse(readUntil(*s, [](const QByteArray &got) { return parseResponse(got).status != 0; })).status;
}

AttackFeed AttackFeed::body(qint64 bytes)
{
    AttackFeed f;
    f.m_kind = Kind::Body;
    f.m_bytes = bytes;
    return f;
}

AttackFeed AttackFeed::chunked()
{
    AttackFeed f;
    f.m_kind = Kind::Chunked;
    return f;
}

AttackFeed AttackFeed::trickle(std::function<QByteArray(int)> piece, int intervalMs, int count)
{
    AttackFeed f;
    f.m_kind = Kind::Trickle;
    f.m_piece = std::move(piece);
    f.m_intervalMs = intervalMs;
    f.m_count = count;
    return f;
}

AttackFeed AttackFeed::trickle(const QByteArray &piece, int intervalMs, int count)
{
    return trickle([piece](int) { return piece; }, intervalMs, count);
}

void AttackFeed::turn(QTcpSocket &s, qint64 elapsedMs)
{
    constexpr qint64 kMiB = 1 << 20;
    constexpr qint64 kChunk = 16 * 1024;
    switch (m_kind) {
    case Kind::None:
        break;
    case Kind::Body:
        if (m_sent < m_bytes && s.bytesToWrite() < 4 * kMiB) {
            static const QByteArray mib(kMiB, 'x');
            s.write(mib);
            m_sent += kMiB;
        }
        break;
    case Kind::Chunked:
        if (s.bytesToWrite() < 256 * 1024) {
            static const QByteArray chunk = QByteArray::number(kChunk, 16) + "\r\n" + QByteArray(kChunk, 'x') + "\r\n";
            s.write(chunk);
        }
        break;
    case Kind::Trickle:
        if (elapsedMs >= qint64(m_pieces) * m_intervalMs && (m_count < 0 || m_pieces < m_count)) {
            s.write(m_piece(m_pieces));
            ++m_pieces;
        }
        break;
    }
}

QByteArray AttackEnd::stillOpen() const
{
    return "still open after " + QByteArray::number(afterMs) + " ms; got: " + read.left(300);
}

AttackEnd driveAttack(QTcpSocket &s, AttackFeed &feed, const QElapsedTimer &clock, const QDeadlineTimer &deadline,
                      const std::function<void(const QByteArray &)> &eachTurn)
{
    AttackEnd end;
    while (s.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        feed.turn(s, clock.elapsed());
        s.waitForBytesWritten(10);
        s.waitForReadyRead(10);
        end.read += s.readAll();
        eachTurn(end.read);
    }
    end.read += s.readAll();
    end.afterMs = clock.elapsed();
    end.closed = s.state() != QAbstractSocket::ConnectedState;
    return end;
}

QByteArray wsUpgradeRequest()
{
    return "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

QByteArray maskedFrame(quint8 first, const QByteArray &payload)
{
    QByteArray f;
    f.append(char(first));
    if (payload.size() < 126) {
        f.append(char(0x80 | payload.size()));
    } else if (payload.size() < 65536) {
        f.append(char(0x80 | 126));
        f.append(char(payload.size() >> 8));
        f.append(char(payload.size() & 0xff));
    } else {
        f.append(char(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            f.append(char((quint64(payload.size()) >> shift) & 0xff));
    }
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    f.append(mask, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f.append(char(payload.at(i) ^ mask[i % 4]));
    return f;
}

int closeCodeIn(const QByteArray &frames)
{
    qsizetype at = 0;
    while (at + 2 <= frames.size()) {
        const quint8 op = quint8(frames.at(at)) & 0x0f;
        qint64 len = quint8(frames.at(at + 1)) & 0x7f;
        qsizetype head = 2;
        if (len == 126) {
            if (at + 4 > frames.size())
                return -1;
            len = (quint8(frames.at(at + 2)) << 8) | quint8(frames.at(at + 3));
            head = 4;
        } else if (len == 127) {
            if (at + 10 > frames.size())
                return -1;
            len = 0;
            for (int i = 0; i < 8; ++i)
                len = (len << 8) | quint8(frames.at(at + 2 + i));
            head = 10;
        }
        if (op == 0x8) {
            if (len < 2 || at + head + 2 > frames.size())
                return -1;
            return (quint8(frames.at(at + head)) << 8) | quint8(frames.at(at + head + 1));
        }
        at += head + qsizetype(len);
    }
    return -1;
}

qint64 procStatusKib(qint64 pid, QByteArrayView field)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith(field) && line.size() > field.size() && line.at(field.size()) == ':')
            return line.mid(field.size() + 1).trimmed().split(' ').first().toLongLong();
    }
    return -1;
}

} // namespace taskmaster::test
