// Test support: access to the real services that packaging/dev/with-services.sh starts.
// TM_REQUIRE_SERVICE(var, "TM_TEST_DATABASE_URL") sets var to the URL; when the variable is
// missing the test is skipped, or fails when TM_TEST_REQUIRE_SERVICES=1 (the test command sets
// it, so CI can never pass by skipping).
#pragma once

#include <QString>
#include <QTest>
#include <QtGlobal>

#define TM_REQUIRE_SERVICE(var, envName)                                                                               \
    const QString var = qEnvironmentVariable(envName);                                                                 \
    if (var.isEmpty()) {                                                                                               \
        if (qEnvironmentVariableIntValue("TM_TEST_REQUIRE_SERVICES") == 1)                                             \
            QFAIL(envName " is not set although TM_TEST_REQUIRE_SERVICES=1");                                          \
        QSKIP(envName " is not set: run through packaging/dev/with-services.sh");                                      \
    }
