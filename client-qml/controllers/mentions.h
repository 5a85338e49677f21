// Mentions: `@username` in message bodies. Whether a body names a user (the room list's mention
// highlight and the notifier's decision), the partial `@name` before the composer's cursor and
// its completion, and a body as styled text with the mentions highlighted. A mention is `@`
// followed by a username (docs/protocol.md section 1: [a-z0-9_.-], case-insensitive), not preceded
// by a username character or `@`, and not followed by one (a trailing `.` ends a sentence:
// "@bob." names bob, "@bob.smith" names bob.smith).
// Owns: nothing (pure functions; the QML singleton Mentions exposes them). Thread: any.
#pragma once

#include <QObject>
#include <QString>
#include <QVariantMap>
#include <QtQmlIntegration/qqmlintegration.h>

#include <optional>

namespace taskmaster::client {

namespace mentions {

// Whether body mentions username (case-insensitive). An empty username matches nothing.
[[nodiscard]] bool mentions(QStringView body, QStringView username);

struct Completion {
    QString text;
    int cursor = 0;
};

// The partial username (lower case) typed after an `@` that ends at cursor ("" just after the
// `@`), or nullopt when the text before the cursor is no such word.
[[nodiscard]] std::optional<QString> prefixAt(const QString &text, int cursor);
// text with the partial `@name` before cursor replaced by `@username ` and the cursor after it
// (text unchanged when prefixAt() is null).
[[nodiscard]] Completion complete(const QString &text, int cursor, const QString &username);
// body as Qt styled text (HTML-escaped, line breaks kept), every mention in bold in otherColor,
// and mentions of selfUsername in selfColor.
[[nodiscard]] QString toStyledText(const QString &body, const QString &selfUsername, const QString &selfColor,
                                   const QString &otherColor);

} // namespace mentions

// The functions above for QML.
class Mentions final : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON

public:
    using QObject::QObject;
    Q_INVOKABLE static bool names(const QString &body, const QString &username)
    {
        return mentions::mentions(body, username);
    }
    // The partial username before cursor, or null (QML) when none.
    Q_INVOKABLE static QVariant prefixAt(const QString &text, int cursor);
    // {"text", "cursor"}
    Q_INVOKABLE static QVariantMap complete(const QString &text, int cursor, const QString &username);
    Q_INVOKABLE static bool hasMention(const QString &body) { return body.contains(QLatin1Char('@')); }
    Q_INVOKABLE static QString toStyledText(const QString &body, const QString &selfUsername, const QString &selfColor,
                                            const QString &otherColor)
    {
        return mentions::toStyledText(body, selfUsername, selfColor, otherColor);
    }
};

} // namespace taskmaster::client
