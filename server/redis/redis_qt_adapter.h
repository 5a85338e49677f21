// Includes hiredis' Qt adapter (RedisQtAdapter, <hiredis/adapters/qt.h>) in a code base built with
// QT_NO_KEYWORDS: the adapter's header says "private slots:". The adapter's meta-object is
// generated from the system header by server/CMakeLists.txt (qt_wrap_cpp), which includes this
// file instead of the header itself. Only redis_client.cpp includes it.
// Thread: the adapter lives on the network thread (its socket notifiers do).
#pragma once

#include <QObject>
#include <QSocketNotifier>

#ifndef slots
#define TM_REDIS_DEFINED_SLOTS
#define slots Q_SLOTS
#endif
#include <hiredis/adapters/qt.h>
#ifdef TM_REDIS_DEFINED_SLOTS
#undef slots
#undef TM_REDIS_DEFINED_SLOTS
#endif
