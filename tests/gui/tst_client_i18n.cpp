// The client's translations (client-qml/i18n, embedded by tm_client_net): the English catalogue
// gives the plural forms ("1 member", "2 members"), the German one its own, a language without a
// catalogue falls back to English; and no QML file of the client shows a user-visible string
// literal outside qsTr() (the check itself is tried on snippets first).
#include "client-qml/controllers/key_names.h"
#include "client-qml/net/client_setup.h"

#include <QCoreApplication>
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

namespace {

// Properties whose string values users see or hear. (Plain literals: moc misreads raw strings
// with quotes in them.)
const QRegularExpression kVisibleProperty(
    QStringLiteral("(?:^|[\\s{,;])(text|placeholderText|title|subtitle|label|Accessible\\.name|Accessible\\.description"
                   "|ToolTip\\.text)\\s*:\\s*(.*)$"));
// qsTr("...") with its optional comment and count (the literals inside are translated).
const QRegularExpression
    kTranslated(QStringLiteral("qsTr\\s*\\(\\s*\"(?:[^\"\\\\]|\\\\.)*\"(?:\\s*,\\s*\"(?:[^\"\\\\]|\\\\.)*\")?"));
// "..." or '...'
const QRegularExpression kLiteral(QStringLiteral("\"((?:[^\"\\\\]|\\\\.)*)\"|\\x27((?:[^\\x27\\\\]|\\\\.)*)\\x27"));

const QRegularExpression kNextProperty(QStringLiteral(",\\s*[A-Za-z_][A-Za-z0-9_]*\\s*:"));
// Colours ("#1d2126") are not words.
const QRegularExpression kColour(QStringLiteral("^#[0-9a-fA-F]{3,8}$"));

// The line up to a "//" comment outside string literals.
QString withoutComment(const QString &line)
{
    QChar quote;
    for (qsizetype i = 0; i < line.size(); ++i) {
        const QChar c = line.at(i);
        if (!quote.isNull()) {
            if (c == QLatin1Char('\\'))
                ++i;
            else if (c == quote)
                quote = QChar();
        } else if (c == QLatin1Char('"') || c == QLatin1Char('\'')) {
            quote = c;
        } else if (c == QLatin1Char('/') && i + 1 < line.size() && line.at(i + 1) == QLatin1Char('/')) {
            return line.left(i);
        }
    }
    return line;
}

// "line: literal" for each string literal with a letter in it that a user-visible property's
// line shows outside qsTr(). Literals without letters ("+", " · ", "#") need no translation.
QStringList untranslated(const QString &qml)
{
    QStringList found;
    const QStringList lines = qml.split(QLatin1Char('\n'));
    for (qsizetype n = 0; n < lines.size(); ++n) {
        const QString line = withoutComment(lines.at(n));
        const auto property = kVisibleProperty.match(line);
        if (!property.hasMatch())
            continue;
        QString value = property.captured(2);
        value.remove(kTranslated);
        // In an object literal ({ text: ..., value: "low" }) the next property is not shown.
        if (const auto next = kNextProperty.match(value); next.hasMatch())
            value.truncate(next.capturedStart());
        for (auto it = kLiteral.globalMatch(value); it.hasNext();) {
            const auto literal = it.next();
            const QString text = literal.captured(1) + literal.captured(2);
            const QString before = value.left(literal.capturedStart()).trimmed();
            const QString after = value.mid(literal.capturedEnd()).trimmed();
            const bool compared = before.endsWith(QLatin1String("==")) || after.startsWith(QLatin1String("=="))
                || after.startsWith(QLatin1String("!=="));
            if (!compared && !kColour.match(text).hasMatch()
                && std::any_of(text.cbegin(), text.cend(), [](QChar c) { return c.isLetter(); }))
                found << QStringLiteral("%1: %2").arg(n + 1).arg(literal.captured(0));
        }
    }
    return found;
}

} // namespace

class TestClientI18n final : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cleanup() { taskmaster::client::installTranslations(QStringLiteral("en")); }
    void plurals_data();
    void plurals();
    void checkFindsLiterals_data();
    void checkFindsLiterals();
    void qmlStringsTranslatable();
    void keyNames_data();
    void keyNames();
};

void TestClientI18n::plurals_data()
{
    QTest::addColumn<QString>("language");
    QTest::addColumn<QString>("loaded");
    QTest::addColumn<QString>("one");
    QTest::addColumn<QString>("two");
    QTest::addColumn<QString>("typingThree");
    QTest::newRow("en") << "en"
                        << "en"
                        << "1 member"
                        << "2 members"
                        << "3 people are typing…";
    QTest::newRow("en_GB") << "en_GB"
                           << "en"
                           << "1 member"
                           << "2 members"
                           << "3 people are typing…";
    QTest::newRow("de") << "de"
                        << "de"
                        << "1 Mitglied"
                        << "2 Mitglieder"
                        << "3 Personen schreiben…";
    QTest::newRow("de_AT") << "de_AT"
                           << "de"
                           << "1 Mitglied"
                           << "2 Mitglieder"
                           << "3 Personen schreiben…";
    // No catalogue: English, with its plurals (not "1 member(s)").
    QTest::newRow("fi") << "fi"
                        << "en"
                        << "1 member"
                        << "2 members"
                        << "3 people are typing…";
}

void TestClientI18n::plurals()
{
    QFETCH(QString, language);
    QFETCH(QString, loaded);
    QFETCH(QString, one);
    QFETCH(QString, two);
    QFETCH(QString, typingThree);
    QCOMPARE(taskmaster::client::installTranslations(language), loaded);
    QCOMPARE(QCoreApplication::translate("RoomsPage", "%n member(s)", nullptr, 1), one);
    QCOMPARE(QCoreApplication::translate("RoomsPage", "%n member(s)", nullptr, 2), two);
    QCOMPARE(QCoreApplication::translate("taskmaster::client::TypingIndicator", "%n people are typing…", nullptr, 3),
             typingThree);
}

void TestClientI18n::checkFindsLiterals_data()
{
    QTest::addColumn<QString>("qml");
    QTest::addColumn<int>("found");
    QTest::newRow("plain text") << "    text: \"Hello\"" << 1;
    QTest::newRow("placeholder") << "placeholderText: 'Name'" << 1;
    QTest::newRow("accessible name") << "Accessible.name: checked ? \"On\" : qsTr(\"Off\")" << 1;
    QTest::newRow("in a model") << "{ text: \"Anyone\", value: -1 }," << 1;
    QTest::newRow("tooltip") << "ToolTip.text: qsTr(\"%1 of %2\").arg(a).arg(\"items\")" << 1;
    QTest::newRow("translated") << "text: qsTr(\"Hello\")" << 0;
    QTest::newRow("plural") << "text: qsTr(\"%n member(s)\", \"\", count)" << 0;
    QTest::newRow("symbols") << "text: checked ? \"+\" : \"#\" + name + \" · \"" << 0;
    QTest::newRow("compared") << "text: state === \"online\" ? qsTr(\"Online\") : \"offline\" !== s ? x : y" << 0;
    QTest::newRow("colour") << "readonly property color text: dark ? \"#e8eaed\" : \"#1d2126\"" << 0;
    QTest::newRow("model value") << "{ text: qsTr(\"Urgent\"), value: \"urgent\" }," << 0;
    QTest::newRow("model text") << "{ text: \"Urgent\", value: \"urgent\" }," << 1;
    QTest::newRow("not shown") << "objectName: \"sendButton\"" << 0;
    QTest::newRow("comment") << "text: qsTr(\"Hi\") // not \"this\"" << 0;
    QTest::newRow("url in a string") << "placeholderText: \"Server, e.g. http://host\" // x" << 1;
}

void TestClientI18n::checkFindsLiterals()
{
    QFETCH(QString, qml);
    QFETCH(int, found);
    QCOMPARE(untranslated(qml).size(), found);
}

void TestClientI18n::qmlStringsTranslatable()
{
    int files = 0;
    QStringList failures;
    for (QDirIterator it(QStringLiteral(TM_CLIENT_QML_DIR), {QStringLiteral("*.qml")}, QDir::Files,
                         QDirIterator::Subdirectories);
         it.hasNext();) {
        QFile file(it.next());
        QVERIFY(file.open(QIODevice::ReadOnly));
        ++files;
        const QStringList found = untranslated(QString::fromUtf8(file.readAll()));
        for (const QString &f : found)
            failures << file.fileName() + QLatin1Char(':') + f;
    }
    QVERIFY(files >= 20);
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
}

void TestClientI18n::keyNames_data()
{
    QTest::addColumn<QString>("language");
    QTest::addColumn<QString>("portable");
    QTest::addColumn<QString>("shown");
    QTest::newRow("en Ctrl") << "en"
                             << "Ctrl+K"
                             << "Ctrl+K";
    QTest::newRow("en Alt") << "en"
                            << "Alt+Up"
                            << "Alt+Up";
    QTest::newRow("de Ctrl") << "de"
                             << "Ctrl+K"
                             << "Strg+K";
    QTest::newRow("de Space") << "de"
                              << "Space"
                              << "Leertaste";
    QTest::newRow("de Shift") << "de"
                              << "Shift+F10"
                              << "Umschalt+F10";
}

// The shortcuts sheet's key names (KeyNames) come from Qt's own catalogue, loaded next to ours.
void TestClientI18n::keyNames()
{
    QFETCH(QString, language);
    QFETCH(QString, portable);
    QFETCH(QString, shown);
    QCOMPARE(taskmaster::client::installTranslations(language), language);
    if (language != QLatin1String("en") && QCoreApplication::translate("QShortcut", "Ctrl") == QLatin1String("Ctrl")) {
        QSKIP("Qt's own German catalogue (qt_de.qm, Debian: qt6-translations-l10n) is not installed");
    }
    QCOMPARE(taskmaster::client::KeyNames::nativeText(portable), shown);
}

QTEST_GUILESS_MAIN(TestClientI18n)
#include "tst_client_i18n.moc"
