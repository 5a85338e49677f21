#include "server/http/request_framing.h"

#include <QList>

#include <algorithm>

namespace taskmaster::server {

namespace {
// Where a head ends: the first "\n\n" or "\n\r\n" (QtHttpServer 6.4 accepts CRLF and LF line
// ends alike); returns the index after it, or -1.
qsizetype headEnd(const QByteArray &head, qsizetype from)
{
    for (qsizetype i = std::max<qsizetype>(from, 1); i < head.size(); ++i) {
        if (head.at(i) != '\n')
            continue;
        if (head.at(i - 1) == '\n')
            return i + 1;
        if (i >= 2 && head.at(i - 1) == '\r' && head.at(i - 2) == '\n')
            return i + 1;
    }
    return -1;
}

bool isWhitespace(char c)
{
    return c == '\v' || c == '\n' || c == '\r' || c == ' ' || c == '\t';
}

bool isHexDigits(QByteArrayView v)
{
    if (v.isEmpty() || v.size() > 15)
        return false;
    for (char c : v) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

FrontError badRequest(QString message)
{
    return FrontError {400, "bad_request", std::move(message)};
}

constexpr qsizetype kChunkLineMax = 1024; // a chunk-size line with its extensions
} // namespace

QByteArray DivertedHead::field(QByteArrayView name) const
{
    for (const auto &[n, v] : fields) {
        if (n == name)
            return v;
    }
    return {};
}

bool RequestFraming::fail(FrontError error)
{
    m_phase = Phase::Failed;
    m_error = std::move(error);
    m_head.clear();
    return false;
}

qsizetype RequestFraming::failAt(FrontError error)
{
    fail(std::move(error));
    return -1;
}

bool RequestFraming::feed(QByteArrayView bytes)
{
    qsizetype at = 0;
    while (at < bytes.size()) {
        switch (m_phase) {
        case Phase::Failed:
            return false;
        case Phase::Upgraded:
        case Phase::Diverted:
            return true;
        case Phase::BetweenRequests:
            // QtHttpServer skips whitespace left over from the previous request.
            if (isWhitespace(bytes.at(at))) {
                ++at;
                continue;
            }
            m_phase = Phase::Head;
            m_head.clear();
            m_headLines = 0;
            continue;
        case Phase::Head:
            at = feedHead(bytes, at);
            break;
        case Phase::Body:
            if (m_chunked) {
                at = feedChunked(bytes, at);
            } else {
                const qsizetype take = qsizetype(std::min<qint64>(m_bodyLeft, bytes.size() - at));
                at += take;
                m_bodyLeft -= take;
                if (m_bodyLeft == 0)
                    endRequest();
            }
            break;
        }
        if (at < 0)
            return false;
    }
    return m_phase != Phase::Failed;
}

qsizetype RequestFraming::feedHead(QByteArrayView bytes, qsizetype at)
{
    const qsizetype before = m_head.size();
    // Never hold more than the limit: the whole head, its end included, must fit.
    const qsizetype take = qsizetype(std::min<qint64>(m_limits.maxHeaderBytes - before, bytes.size() - at));
    m_head.append(bytes.sliced(at, take));
    const qsizetype end = headEnd(m_head, before - 2);
    if (end < 0) {
        // A head that does not end yet: its lines so far (request line and fields) count too.
        m_headLines += qsizetype(QByteArrayView(m_head).sliced(before).count('\n'));
        if (m_headLines > qsizetype(m_limits.maxHeaders) + 1) {
            return failAt(FrontError {431, "headers_too_large",
                                      QStringLiteral("more than %1 header fields").arg(m_limits.maxHeaders)});
        }
        if (m_head.size() >= m_limits.maxHeaderBytes) {
            return failAt(FrontError {431, "headers_too_large",
                                      QStringLiteral("request head over %1 bytes").arg(m_limits.maxHeaderBytes)});
        }
        return at + take;
    }
    const qsizetype used = end - before;
    m_head.truncate(end);
    if (!endHead())
        return -1;
    if (m_phase == Phase::Diverted)
        m_divertedBodyOffset = at + used;
    return at + used;
}

bool RequestFraming::endHead()
{
    QList<QByteArray> lines = m_head.split('\n');
    m_head.clear();
    for (QByteArray &line : lines) {
        if (line.endsWith('\r'))
            line.chop(1);
    }
    // The field count first, as feedHead() counts the lines of a head that has not ended yet:
    // the answer must not depend on whether the head came in one read or several.
    if (std::count_if(lines.cbegin() + 1, lines.cend(), [](const QByteArray &l) { return !l.isEmpty(); })
        > m_limits.maxHeaders) {
        return fail(FrontError {431, "headers_too_large",
                                QStringLiteral("more than %1 header fields").arg(m_limits.maxHeaders)});
    }
    // The request line: METHOD SP target SP HTTP/x.y
    const QList<QByteArray> parts = lines.value(0).split(' ');
    if (parts.size() != 3 || parts.at(0).isEmpty() || parts.at(1).isEmpty() || !parts.at(2).startsWith("HTTP/1."))
        return fail(badRequest(QStringLiteral("malformed request line")));
    qint64 contentLength = -1;
    bool chunked = false;
    bool connectionUpgrade = false;
    bool upgradeWebSocket = false;
    int fields = 0;
    m_forwardedFor.clear();
    const QByteArray &target = parts.at(1);
    const qsizetype query = target.indexOf('?');
    const bool divert = m_limits.divert
        && m_limits.divert(parts.at(0), QByteArrayView(target).first(query < 0 ? target.size() : query));
    m_diverted = DivertedHead {};
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines.at(i);
        if (line.isEmpty())
            continue;
        if (++fields > m_limits.maxHeaders) {
            return fail(FrontError {431, "headers_too_large",
                                    QStringLiteral("more than %1 header fields").arg(m_limits.maxHeaders)});
        }
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || isWhitespace(line.at(0)))
            return fail(badRequest(QStringLiteral("malformed header field")));
        const QByteArray name = line.left(colon).trimmed().toLower();
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (divert)
            m_diverted.fields.append({name, value});
        if (name == "content-length") {
            bool ok = false;
            const qint64 n = value.toLongLong(&ok);
            if (!ok || n < 0 || value.startsWith('+') || (contentLength >= 0 && n != contentLength))
                return fail(badRequest(QStringLiteral("malformed Content-Length")));
            contentLength = n;
        } else if (name == "transfer-encoding") {
            const QByteArray v = value.toLower();
            if (v.contains("chunked"))
                chunked = true;
            else if (v != "identity")
                return fail(badRequest(QStringLiteral("unsupported Transfer-Encoding")));
        } else if (name == "connection") {
            connectionUpgrade = connectionUpgrade || value.toLower().contains("upgrade");
        } else if (name == "upgrade") {
            upgradeWebSocket = value.compare("websocket", Qt::CaseInsensitive) == 0;
        } else if (name == "x-forwarded-for") {
            if (!m_forwardedFor.isEmpty())
                m_forwardedFor += ", ";
            m_forwardedFor += value;
        }
    }
    if (chunked && contentLength >= 0)
        return fail(badRequest(QStringLiteral("both Content-Length and chunked")));
    ++m_heads;
    if (divert && !(connectionUpgrade && upgradeWebSocket)) {
        // The route answers the body's size itself (its own limit, 411 without a length).
        m_diverted.method = parts.at(0);
        m_diverted.target = target;
        m_diverted.contentLength = contentLength;
        m_diverted.chunked = chunked;
        m_phase = Phase::Diverted;
        return true;
    }
    if (contentLength > m_limits.maxBodyBytes) {
        return fail(FrontError {413, "payload_too_large",
                                QStringLiteral("request body over %1 bytes").arg(m_limits.maxBodyBytes)});
    }
    if (connectionUpgrade && upgradeWebSocket) {
        if (chunked || contentLength > 0)
            return fail(badRequest(QStringLiteral("an upgrade request has no body")));
        m_phase = Phase::Upgraded;
        return true;
    }
    m_chunked = chunked;
    m_bodySeen = 0;
    if (chunked) {
        m_chunk = Chunk::Size;
        m_phase = Phase::Body;
    } else if (contentLength > 0) {
        m_bodyLeft = contentLength;
        m_phase = Phase::Body;
    } else {
        endRequest();
    }
    return true;
}

void RequestFraming::endRequest()
{
    ++m_requests;
    m_phase = Phase::BetweenRequests;
    m_head.clear();
    m_chunked = false;
    m_bodyLeft = 0;
}

qsizetype RequestFraming::feedChunked(QByteArrayView bytes, qsizetype at)
{
    auto tooLarge = [this] {
        return failAt(FrontError {413, "payload_too_large",
                                  QStringLiteral("request body over %1 bytes").arg(m_limits.maxBodyBytes)});
    };
    while (at < bytes.size() && m_phase == Phase::Body) {
        // The encoded size (sizes, data and line ends) counts against the limit.
        if (++m_bodySeen > m_limits.maxBodyBytes)
            return tooLarge();
        const char c = bytes.at(at);
        switch (m_chunk) {
        case Chunk::Size:
            if (c != '\n') {
                if (m_head.size() >= kChunkLineMax)
                    return failAt(badRequest(QStringLiteral("chunk size line too long")));
                m_head.append(c);
                ++at;
                continue;
            }
            {
                QByteArray line = m_head;
                m_head.clear();
                if (line.endsWith('\r'))
                    line.chop(1);
                const qsizetype semi = line.indexOf(';');
                const QByteArray size = (semi >= 0 ? line.left(semi) : line).trimmed();
                if (!isHexDigits(size))
                    return failAt(badRequest(QStringLiteral("malformed chunk size")));
                m_chunkLeft = size.toLongLong(nullptr, 16);
                m_chunk = m_chunkLeft == 0 ? Chunk::Trailer : Chunk::Data;
            }
            ++at;
            continue;
        case Chunk::Data: {
            // Whole runs of data at once (the byte counted above is the first of them).
            const qint64 run = std::min<qint64>(m_chunkLeft, bytes.size() - at);
            if (m_bodySeen - 1 + run > m_limits.maxBodyBytes)
                return tooLarge();
            m_bodySeen += run - 1;
            at += qsizetype(run);
            m_chunkLeft -= run;
            if (m_chunkLeft == 0)
                m_chunk = Chunk::DataEnd;
            continue;
        }
        case Chunk::DataEnd:
            // Exactly "\r\n": QtHttpServer 6.4 reads two bytes there without looking.
            ++at;
            if (m_head.isEmpty()) {
                if (c != '\r')
                    return failAt(badRequest(QStringLiteral("malformed chunk end")));
                m_head.append(c);
                continue;
            }
            if (c != '\n')
                return failAt(badRequest(QStringLiteral("malformed chunk end")));
            m_head.clear();
            m_chunk = Chunk::Size;
            continue;
        case Chunk::Trailer:
            // QtHttpServer 6.4 reads no trailer fields: only the line end after the last chunk.
            ++at;
            if (m_head.isEmpty()) {
                if (c != '\r')
                    return failAt(badRequest(QStringLiteral("trailer fields are not supported")));
                m_head.append(c);
                continue;
            }
            if (c != '\n')
                return failAt(badRequest(QStringLiteral("trailer fields are not supported")));
            m_head.clear();
            endRequest();
            continue;
        }
    }
    return at;
}

} // namespace taskmaster::server
