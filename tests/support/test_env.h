// Test support: access to the real services that scripts/with-services.sh starts.
// TM_REQUIRE_SERVICE(var, "TM_TEST_DATABASE_URL") sets var to the URL; when the variable is
// missing the test is skipped, or fails when TM_TEST_REQUIRE_SERVICES=1 (the test command sets
// it, so CI can never pass by skipping).
#pragma once

#include <QByteArray>
#include <QStandardPaths>
#include <QString>
#include <QTest>
#include <QtGlobal>

namespace taskmaster::test {

// The "backend" column with the rows sqlite and postgres: the _data function of a test that runs
// on both storage back ends and needs nothing else.
inline void backendRows()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgres") << QStringLiteral("postgres");
}

// The back end of the running test row: postgres when its data tag starts with "postgres",
// sqlite otherwise (also for a test without data rows).
[[nodiscard]] inline QString rowBackend()
{
    const char *tag = QTest::currentDataTag();
    return tag && QByteArray(tag).startsWith("postgres") ? QStringLiteral("postgres") : QStringLiteral("sqlite");
}

} // namespace taskmaster::test

#define TM_REQUIRE_SERVICE(var, envName) TM_REQUIRE_ENV(var, envName, "scripts/with-services.sh")
// The same for what scripts/cluster/with-cluster.sh exports (TM_CLUSTER_URL, TM_CLUSTER_DIR, ...).
#define TM_REQUIRE_CLUSTER(var, envName) TM_REQUIRE_ENV(var, envName, "scripts/cluster/with-cluster.sh")
#define TM_REQUIRE_ENV(var, envName, runner)                                                                           \
    const QString var = qEnvironmentVariable(envName);                                                                 \
    if (var.isEmpty()) {                                                                                               \
        if (qEnvironmentVariableIntValue("TM_TEST_REQUIRE_SERVICES") == 1)                                             \
            QFAIL(envName " is not set although TM_TEST_REQUIRE_SERVICES=1");                                          \
        QSKIP(envName " is not set: run through " runner);                                                             \
    }

// TM_REQUIRE_PROGRAM(var, "promtool") sets var to the program's path (found on PATH); a missing
// program skips the test, or fails it under the test command (TM_TEST_REQUIRE_SERVICES=1) or in
// CI (CI=true): scripts/packages.txt lists every program the tests run, so CI has them.
#define TM_REQUIRE_PROGRAM(var, program)                                                                               \
    const QString var = QStandardPaths::findExecutable(QStringLiteral(program));                                       \
    if (var.isEmpty()) {                                                                                               \
        if (qEnvironmentVariableIntValue("TM_TEST_REQUIRE_SERVICES") == 1                                              \
            || qEnvironmentVariable("CI") == QLatin1String("true"))                                                    \
            QFAIL(program " is not installed (scripts/setup.sh installs it)");                                         \
        QSKIP(program " is not installed (scripts/setup.sh installs it)");                                             \
    }
