// Helpers of the libFuzzer targets (fuzz/targets/, built by -DTM_FUZZ=ON, run by scripts/fuzz.sh):
// a property check that aborts (libFuzzer then keeps the input as a crash artifact) and the input
// as Qt types. Thread: the fuzzer's (one).
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace taskmaster::fuzz {

// A broken property is a finding like a sanitizer report: print what and abort.
inline void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz property failed: %s\n", what);
        std::abort();
    }
}

inline QByteArrayView bytes(const uint8_t *data, size_t size)
{
    return QByteArrayView(reinterpret_cast<const char *>(data), qsizetype(size));
}

inline QString text(const uint8_t *data, size_t size)
{
    return QString::fromUtf8(bytes(data, size));
}

} // namespace taskmaster::fuzz
