#include "client-qml/controllers/mentions.h"

namespace taskmaster::client {

namespace mentions {

namespace {

bool isNameChar(QChar c)
{
    const char16_t u = c.toLower().unicode();
    return (u >= u'a' && u <= u'z') || (u >= u'0' && u <= u'9') || u == u'_' || u == u'.' || u == u'-';
}

// The length of the username that starts at `from` (a run of name characters, without a trailing
// '.' run: sentence punctuation).
qsizetype nameLength(QStringView s, qsizetype from)
{
    qsizetype end = from;
    while (end < s.size() && isNameChar(s.at(end)))
        ++end;
    while (end > from && s.at(end - 1) == u'.')
        --end;
    return end - from;
}

// Whether the '@' at i starts a mention (nothing name-like or another '@' right before it).
bool startsMention(QStringView s, qsizetype i)
{
    return s.at(i) == u'@' && (i == 0 || (!isNameChar(s.at(i - 1)) && s.at(i - 1) != u'@'));
}

} // namespace

bool mentions(QStringView body, QStringView username)
{
    if (username.isEmpty())
        return false;
    for (qsizetype i = body.indexOf(u'@'); i >= 0; i = body.indexOf(u'@', i + 1)) {
        if (!startsMention(body, i))
            continue;
        const qsizetype n = nameLength(body, i + 1);
        if (n == username.size() && body.mid(i + 1, n).compare(username, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

std::optional<QString> prefixAt(const QString &text, int cursor)
{
    if (cursor < 0 || cursor > text.size())
        return std::nullopt;
    qsizetype start = cursor;
    while (start > 0 && isNameChar(text.at(start - 1)))
        --start;
    if (start == 0 || !startsMention(text, start - 1))
        return std::nullopt;
    return text.mid(start, cursor - start).toLower();
}

Completion complete(const QString &text, int cursor, const QString &username)
{
    const auto prefix = prefixAt(text, cursor);
    if (!prefix)
        return {text, cursor};
    const int start = cursor - int(prefix->size()); // just after the '@'
    qsizetype after = cursor;
    while (after < text.size() && isNameChar(text.at(after))) // the rest of a word being edited
        ++after;
    // One space after the name: the one already there, or a new one.
    const bool spaceFollows = after < text.size() && text.at(after) == u' ';
    const QString out
        = text.left(start) + username + (spaceFollows ? QString() : QStringLiteral(" ")) + text.mid(after);
    return {out, start + int(username.size()) + 1};
}

QString toStyledText(const QString &body, const QString &selfUsername, const QString &selfColor,
                     const QString &otherColor)
{
    QString out;
    out.reserve(body.size() + 64);
    qsizetype done = 0;
    const auto plain = [&](qsizetype until) {
        out += body.mid(done, until - done).toHtmlEscaped().replace(QLatin1Char('\n'), QLatin1String("<br>"));
        done = until;
    };
    for (qsizetype i = body.indexOf(u'@'); i >= 0; i = body.indexOf(u'@', i + 1)) {
        if (i < done || !startsMention(body, i))
            continue;
        const qsizetype n = nameLength(body, i + 1);
        if (n == 0)
            continue;
        plain(i);
        const QString name = body.mid(i + 1, n);
        const bool self = !selfUsername.isEmpty() && name.compare(selfUsername, Qt::CaseInsensitive) == 0;
        out += QStringLiteral("<b><font color=\"%1\">@%2</font></b>")
                   .arg(self ? selfColor : otherColor, name.toHtmlEscaped());
        done = i + 1 + n;
    }
    plain(body.size());
    return out;
}

} // namespace mentions

QVariant Mentions::prefixAt(const QString &text, int cursor)
{
    const auto p = mentions::prefixAt(text, cursor);
    return p ? QVariant(*p) : QVariant();
}

QVariantMap Mentions::complete(const QString &text, int cursor, const QString &username)
{
    const auto c = mentions::complete(text, cursor, username);
    return {{QStringLiteral("text"), c.text}, {QStringLiteral("cursor"), c.cursor}};
}

} // namespace taskmaster::client
